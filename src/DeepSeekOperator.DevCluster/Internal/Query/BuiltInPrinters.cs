using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>The columns of a resource's Table and the function giving one object's cells.</summary>
internal sealed record ResourcePrinter(IReadOnlyList<TableColumnDefinition> Columns, Func<JsonObject, DateTimeOffset, JsonArray> Cells);

/// <summary>
/// kube-apiserver's printers (<c>pkg/printers/internalversion/printers.go</c>) for the built-in resources other than pods,
/// reading the objects in their served JSON form.
/// </summary>
internal static class BuiltInPrinters
{
    private const string ContainersDescription = "Names of each container in the template.";
    private const string ImagesDescription = "Images referenced by each container in the template.";
    private const string ReadyReplicasDescription = "Number of the pod with ready state";
    private const string NodeAddressesDescription = "List of addresses reachable to the node. Queried from cloud provider, if available.";

    private static readonly TableColumnDefinition NameColumn = new("Name", "string", "name", ColumnDescriptions.Name, 0);
    private static readonly TableColumnDefinition AgeColumn = new("Age", "string", "", ColumnDescriptions.CreationTimestamp, 0);

    private static readonly Dictionary<(string Group, string Resource), ResourcePrinter> Printers = new()
    {
        [("", "namespaces")] = new(
            [NameColumn, Column("Status", "The status of the namespace"), AgeColumn],
            (ns, now) => [Name(ns), JsonFields.String(ns, "status", "phase"), Age(ns, now)]),
        [("", "services")] = new(
            [NameColumn, Column("Type", ColumnDescriptions.ServiceType), Column("Cluster-IP", ColumnDescriptions.ClusterIP),
             Column("External-IP", ColumnDescriptions.ExternalIPs), Column("Port(s)", ColumnDescriptions.ServicePorts), AgeColumn,
             Column("Selector", ColumnDescriptions.ServiceSelector, priority: 1)],
            ServiceCells),
        [("", "endpoints")] = new(
            [NameColumn, Column("Endpoints", ColumnDescriptions.EndpointsSubsets), AgeColumn],
            (endpoints, now) => [Name(endpoints), FormatEndpoints(endpoints), Age(endpoints, now)]),
        [("discovery.k8s.io", "endpointslices")] = new(
            [NameColumn, Column("AddressType", ColumnDescriptions.AddressType), Column("Ports", ColumnDescriptions.EndpointSlicePorts),
             Column("Endpoints", ColumnDescriptions.EndpointSliceEndpoints), AgeColumn],
            EndpointSliceCells),
        [("", "configmaps")] = new(
            [NameColumn, Column("Data", ColumnDescriptions.ConfigMapData), AgeColumn],
            (cm, now) => [Name(cm), (long)(JsonFields.Count(cm, "data") + JsonFields.Count(cm, "binaryData")), Age(cm, now)]),
        [("", "secrets")] = new(
            [NameColumn, Column("Type", ColumnDescriptions.SecretType), Column("Data", ColumnDescriptions.SecretData), AgeColumn],
            SecretCells),
        [("", "serviceaccounts")] = new(
            [NameColumn, Column("Secrets", ColumnDescriptions.ServiceAccountSecrets), AgeColumn],
            (sa, now) => [Name(sa), (long)JsonFields.Count(sa, "secrets"), Age(sa, now)]),
        [("", "events")] = new(EventColumns, (e, now) => EventCells(e, now, EventFields.Core)),
        [("events.k8s.io", "events")] = new(EventColumns, (e, now) => EventCells(e, now, EventFields.EventsApi)),
        [("apps", "deployments")] = new(
            [NameColumn, Column("Ready", ReadyReplicasDescription), Column("Up-to-date", ColumnDescriptions.UpdatedReplicas),
             Column("Available", ColumnDescriptions.AvailableReplicas), AgeColumn, Column("Containers", ContainersDescription, priority: 1),
             Column("Images", ImagesDescription, priority: 1), Column("Selector", ColumnDescriptions.DeploymentSelector, priority: 1)],
            DeploymentCells),
        [("apps", "replicasets")] = new(
            [NameColumn, Column("Desired", ColumnDescriptions.ReplicaSetReplicas, type: "integer"),
             Column("Current", ColumnDescriptions.ReplicaSetCurrent, type: "integer"), Column("Ready", ColumnDescriptions.ReplicaSetReady, type: "integer"),
             AgeColumn, Column("Containers", ContainersDescription, priority: 1), Column("Images", ImagesDescription, priority: 1),
             Column("Selector", ColumnDescriptions.ReplicaSetSelector, priority: 1)],
            ReplicaSetCells),
        [("apps", "statefulsets")] = new(
            [NameColumn, Column("Ready", ReadyReplicasDescription), AgeColumn, Column("Containers", ContainersDescription, priority: 1),
             Column("Images", ImagesDescription, priority: 1)],
            StatefulSetCells),
        [("policy", "poddisruptionbudgets")] = new(
            [NameColumn, Column("Min Available", "The minimum number of pods that must be available."),
             Column("Max Unavailable", "The maximum number of pods that may be unavailable."),
             Column("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.", type: "integer"), AgeColumn],
            PodDisruptionBudgetCells),
        [("", "nodes")] = new(
            [NameColumn, Column("Status", "The status of the node"), Column("Roles", "The roles of the node"), AgeColumn,
             Column("Version", "Kubelet Version reported by the node."),
             Column("Internal-IP", NodeAddressesDescription, priority: 1), Column("External-IP", NodeAddressesDescription, priority: 1),
             Column("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority: 1),
             Column("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1),
             Column("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority: 1)],
            NodeCells),
        [("networking.k8s.io", "networkpolicies")] = new(
            [NameColumn, Column("Pod-Selector", ColumnDescriptions.PodSelector), AgeColumn],
            (policy, now) => [Name(policy), LabelSelector.Format(JsonFields.At(policy, "spec", "podSelector") ?? new JsonObject()), Age(policy, now)]),
        [("coordination.k8s.io", "leases")] = new(
            [NameColumn, Column("Holder", ColumnDescriptions.HolderIdentity), AgeColumn],
            (lease, now) => [Name(lease), JsonFields.String(lease, "spec", "holderIdentity"), Age(lease, now)]),
        [("rbac.authorization.k8s.io", "roles")] = RolePrinter,
        [("rbac.authorization.k8s.io", "clusterroles")] = RolePrinter,
        [("rbac.authorization.k8s.io", "rolebindings")] = RoleBindingPrinter,
        [("rbac.authorization.k8s.io", "clusterrolebindings")] = RoleBindingPrinter,
        [("autoscaling", "horizontalpodautoscalers")] = new(
            [NameColumn, Column("Reference", ColumnDescriptions.ScaleTargetRef), Column("Targets", ColumnDescriptions.Metrics),
             Column("MinPods", ColumnDescriptions.MinReplicas), Column("MaxPods", ColumnDescriptions.MaxReplicas),
             Column("Replicas", ColumnDescriptions.CurrentReplicas), AgeColumn],
            HorizontalPodAutoscalerCells),
    };

    private enum EventFields
    {
        Core,
        EventsApi,
    }

    private static IReadOnlyList<TableColumnDefinition> EventColumns =>
    [
        Column("Last Seen", ColumnDescriptions.EventLastTimestamp),
        Column("Type", ColumnDescriptions.EventType),
        Column("Reason", ColumnDescriptions.EventReason),
        Column("Object", ColumnDescriptions.EventInvolvedObject),
        Column("Subobject", ColumnDescriptions.EventFieldPath, priority: 1),
        Column("Source", ColumnDescriptions.EventSource, priority: 1),
        Column("Message", ColumnDescriptions.EventMessage),
        Column("First Seen", ColumnDescriptions.EventFirstTimestamp, priority: 1),
        Column("Count", ColumnDescriptions.EventCount, priority: 1),
        new("Name", "string", "name", ColumnDescriptions.Name, 1),
    ];

    private static ResourcePrinter RolePrinter => new(
        [NameColumn, new("Created At", "date", "", ColumnDescriptions.CreationTimestamp, 0)],
        (role, _) => [Name(role), TablePrinter.CreatedAt(role)]);

    private static ResourcePrinter RoleBindingPrinter => new(
        [NameColumn, Column("Role", ColumnDescriptions.RoleRef), AgeColumn, Column("Users", "Users in the roleBinding", priority: 1),
         Column("Groups", "Groups in the roleBinding", priority: 1), Column("ServiceAccounts", "ServiceAccounts in the roleBinding", priority: 1)],
        RoleBindingCells);

    /// <summary>The printer of a built-in resource, or null when it has none of its own.</summary>
    public static ResourcePrinter? Find(string group, string resource) => Printers.GetValueOrDefault((group, resource));

    private static TableColumnDefinition Column(string name, string description, string type = "string", int priority = 0) =>
        new(name, type, "", description, priority);

    private static string Name(JsonObject obj) => JsonFields.String(obj, "metadata", "name");

    private static string Age(JsonObject obj, DateTimeOffset now) => HumanDuration.Since(JsonFields.Time(obj, "metadata", "creationTimestamp"), now);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static JsonArray ServiceCells(JsonObject service, DateTimeOffset now)
    {
        var clusterIPs = JsonFields.Array(service, "spec", "clusterIPs");
        var clusterIP = clusterIPs.Count > 0 ? JsonFields.String(clusterIPs[0]) : JsonFields.String(service, "spec", "clusterIP");
        var ports = string.Join(',', JsonFields.Array(service, "spec", "ports").Select(port =>
        {
            var protocol = JsonFields.OptionalString(port, "protocol") ?? "TCP";
            var nodePort = JsonFields.Integer(port, "nodePort");
            return nodePort > 0
                ? Invariant($"{JsonFields.Integer(port, "port")}:{nodePort}/{protocol}")
                : Invariant($"{JsonFields.Integer(port, "port")}/{protocol}");
        }));
        return
        [
            Name(service),
            JsonFields.String(service, "spec", "type"),
            clusterIP.Length > 0 ? clusterIP : "<none>",
            ServiceExternalIP(service),
            ports.Length > 0 ? ports : "<none>",
            Age(service, now),
            FormatLabels(JsonFields.Object(service, "spec", "selector")),
        ];
    }

    private static string ServiceExternalIP(JsonObject service)
    {
        var externalIPs = JsonFields.Array(service, "spec", "externalIPs").Select(ip => JsonFields.String(ip)).ToList();
        switch (JsonFields.String(service, "spec", "type"))
        {
            case "ClusterIP" or "NodePort":
                return externalIPs.Count > 0 ? string.Join(',', externalIPs) : "<none>";
            case "LoadBalancer":
                var ingress = JsonFields.Array(service, "status", "loadBalancer", "ingress")
                    .Select(entry => JsonFields.String(entry, "ip") is { Length: > 0 } ip ? ip : JsonFields.String(entry, "hostname"))
                    .Where(address => address.Length > 0)
                    .Distinct()
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (externalIPs.Count > 0)
                {
                    return string.Join(',', ingress.Concat(externalIPs));
                }

                return ingress.Count > 0 ? string.Join(',', ingress) : "<pending>";
            case "ExternalName":
                return JsonFields.String(service, "spec", "externalName");
            default:
                return "<unknown>";
        }
    }

    // labels.FormatLabels: "k=v,k2=v2" sorted by key, <none> when empty.
    private static string FormatLabels(JsonObject? labels)
    {
        if (labels is null || labels.Count == 0)
        {
            return "<none>";
        }

        return string.Join(',', labels.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => pair.Key + "=" + JsonFields.String(pair.Value)));
    }

    private static string FormatEndpoints(JsonObject endpoints)
    {
        var subsets = JsonFields.Array(endpoints, "subsets");
        if (subsets.Count == 0)
        {
            return "<none>";
        }

        const int max = 3;
        var list = new List<string>();
        var more = false;
        var count = 0;
        foreach (var subset in subsets)
        {
            var addresses = JsonFields.Array(subset, "addresses").Select(address => JsonFields.String(address, "ip")).ToList();
            var ports = JsonFields.Array(subset, "ports");
            if (ports.Count == 0)
            {
                count += addresses.Count;
                foreach (var ip in addresses)
                {
                    if (list.Count == max)
                    {
                        more = true;
                        break;
                    }

                    list.Add(ip);
                }

                continue;
            }

            foreach (var port in ports)
            {
                count += addresses.Count;
                foreach (var ip in addresses)
                {
                    if (list.Count == max)
                    {
                        more = true;
                        break;
                    }

                    var host = ip.Contains(':', StringComparison.Ordinal) ? "[" + ip + "]" : ip;
                    list.Add(Invariant($"{host}:{JsonFields.Integer(port, "port")}"));
                }
            }
        }

        var joined = string.Join(',', list);
        return more ? Invariant($"{joined} + {count - max} more...") : joined;
    }

    private static JsonArray EndpointSliceCells(JsonObject slice, DateTimeOffset now)
    {
        var ports = JsonFields.Array(slice, "ports")
            .Select(port => JsonFields.OptionalInteger(port, "port") is { } number
                ? number.ToString(CultureInfo.InvariantCulture)
                : JsonFields.OptionalString(port, "name") ?? "*")
            .ToList();
        var addresses = JsonFields.Array(slice, "endpoints").SelectMany(endpoint => JsonFields.Array(endpoint, "addresses")).Select(a => JsonFields.String(a)).ToList();
        return [Name(slice), JsonFields.String(slice, "addressType"), ListWithMore(ports), ListWithMore(addresses), Age(slice, now)];
    }

    private static string ListWithMore(List<string> items)
    {
        const int max = 3;
        var joined = string.Join(',', items.Take(max));
        if (items.Count > max)
        {
            return Invariant($"{joined} + {items.Count - max} more...");
        }

        return joined.Length == 0 ? "<unset>" : joined;
    }

    private static JsonArray SecretCells(JsonObject secret, DateTimeOffset now)
    {
        // stringData is merged into data when the secret is read.
        var keys = new HashSet<string>(StringComparer.Ordinal);
        keys.UnionWith(JsonFields.Object(secret, "data")?.Select(pair => pair.Key) ?? []);
        keys.UnionWith(JsonFields.Object(secret, "stringData")?.Select(pair => pair.Key) ?? []);
        return [Name(secret), JsonFields.String(secret, "type"), (long)keys.Count, Age(secret, now)];
    }

    private static JsonArray EventCells(JsonObject e, DateTimeOffset now, EventFields fields)
    {
        var core = fields == EventFields.Core;
        var involved = JsonFields.Object(e, core ? "involvedObject" : "regarding");
        var source = JsonFields.Object(e, core ? "source" : "deprecatedSource");
        var firstSeen = JsonFields.Time(e, core ? "firstTimestamp" : "deprecatedFirstTimestamp");
        var lastSeen = JsonFields.Time(e, core ? "lastTimestamp" : "deprecatedLastTimestamp");

        var firstTimestamp = firstSeen is null ? HumanDuration.Since(JsonFields.Time(e, "eventTime"), now) : HumanDuration.Since(firstSeen, now);
        var lastTimestamp = lastSeen is null ? firstTimestamp : HumanDuration.Since(lastSeen, now);
        var count = JsonFields.Integer(e, core ? "count" : "deprecatedCount");
        if (JsonFields.Object(e, "series") is { } series)
        {
            lastTimestamp = HumanDuration.Since(JsonFields.Time(series, "lastObservedTime"), now);
            count = JsonFields.Integer(series, "count");
        }
        else if (count == 0)
        {
            count = 1;
        }

        var kind = JsonFields.String(involved, "kind").ToLowerInvariant();
        var involvedName = JsonFields.String(involved, "name");
        var target = involvedName.Length > 0 ? kind + "/" + involvedName : kind;
        var component = FirstNonEmpty(JsonFields.String(source, "component"), JsonFields.String(e, core ? "reportingComponent" : "reportingController"));
        var instance = FirstNonEmpty(JsonFields.String(source, "host"), JsonFields.String(e, "reportingInstance"));
        var sourceText = component.Length == 0 ? "<unknown>" : instance.Length == 0 ? component : component + ", " + instance;
        return
        [
            lastTimestamp,
            JsonFields.String(e, "type"),
            JsonFields.String(e, "reason"),
            target,
            JsonFields.String(involved, "fieldPath"),
            sourceText,
            JsonFields.String(e, core ? "message" : "note").Trim(),
            firstTimestamp,
            count,
            Name(e),
        ];
    }

    private static string FirstNonEmpty(string first, string second) => first.Length > 0 ? first : second;

    // Workloads read spec.replicas as the server stores it: defaulted to 1 when absent.
    private static long DesiredReplicas(JsonObject workload) => JsonFields.OptionalInteger(workload, "spec", "replicas") ?? 1;

    private static (string Names, string Images) ContainerCells(JsonObject workload)
    {
        var containers = JsonFields.Array(workload, "spec", "template", "spec", "containers");
        return (string.Join(',', containers.Select(c => JsonFields.String(c, "name"))), string.Join(',', containers.Select(c => JsonFields.String(c, "image"))));
    }

    private static JsonArray DeploymentCells(JsonObject deployment, DateTimeOffset now)
    {
        var (names, images) = ContainerCells(deployment);
        var selector = LabelSelector.FromLabelSelector(JsonFields.At(deployment, "spec", "selector"), "spec.selector");
        return
        [
            Name(deployment),
            Invariant($"{JsonFields.Integer(deployment, "status", "readyReplicas")}/{DesiredReplicas(deployment)}"),
            JsonFields.Integer(deployment, "status", "updatedReplicas"),
            JsonFields.Integer(deployment, "status", "availableReplicas"),
            Age(deployment, now),
            names,
            images,
            selector.Errors.Count > 0 ? "<invalid>" : selector.Selector.ToString(),
        ];
    }

    private static JsonArray ReplicaSetCells(JsonObject replicaSet, DateTimeOffset now)
    {
        var (names, images) = ContainerCells(replicaSet);
        return
        [
            Name(replicaSet),
            DesiredReplicas(replicaSet),
            JsonFields.Integer(replicaSet, "status", "replicas"),
            JsonFields.Integer(replicaSet, "status", "readyReplicas"),
            Age(replicaSet, now),
            names,
            images,
            LabelSelector.Format(JsonFields.At(replicaSet, "spec", "selector")),
        ];
    }

    private static JsonArray StatefulSetCells(JsonObject statefulSet, DateTimeOffset now)
    {
        var (names, images) = ContainerCells(statefulSet);
        return
        [
            Name(statefulSet),
            Invariant($"{JsonFields.Integer(statefulSet, "status", "readyReplicas")}/{DesiredReplicas(statefulSet)}"),
            Age(statefulSet, now),
            names,
            images,
        ];
    }

    // printNode: the Ready condition (NotReady, or Unknown without one), SchedulingDisabled when cordoned, and the roles
    // from node-role.kubernetes.io/<role> and kubernetes.io/role labels.
    private static JsonArray NodeCells(JsonObject node, DateTimeOffset now)
    {
        var ready = JsonFields.Array(node, "status", "conditions").OfType<JsonObject>().LastOrDefault(c => JsonFields.String(c, "type") == "Ready");
        var status = new List<string> { ready is null ? "Unknown" : JsonFields.String(ready, "status") == "True" ? "Ready" : "NotReady" };
        if (JsonFields.OptionalBoolean(node, "spec", "unschedulable") == true)
        {
            status.Add("SchedulingDisabled");
        }

        var roles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in JsonFields.Object(node, "metadata", "labels") ?? [])
        {
            if (key.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
            {
                roles.Add(key["node-role.kubernetes.io/".Length..]);
            }
            else if (key == "kubernetes.io/role" && value?.ToString() is { Length: > 0 } role)
            {
                roles.Add(role);
            }
        }

        string Address(string type) =>
            JsonFields.Array(node, "status", "addresses").OfType<JsonObject>().FirstOrDefault(a => JsonFields.String(a, "type") == type) is { } address
                ? JsonFields.String(address, "address")
                : "<none>";

        string Info(string field) => JsonFields.String(node, "status", "nodeInfo", field) is { Length: > 0 } value ? value : "<unknown>";

        return
        [
            Name(node),
            string.Join(',', status),
            roles.Count == 0 ? "<none>" : string.Join(',', roles),
            Age(node, now),
            JsonFields.String(node, "status", "nodeInfo", "kubeletVersion"),
            Address("InternalIP"),
            Address("ExternalIP"),
            Info("osImage"),
            Info("kernelVersion"),
            Info("containerRuntimeVersion"),
        ];
    }

    private static JsonArray PodDisruptionBudgetCells(JsonObject pdb, DateTimeOffset now) =>
    [
        Name(pdb),
        IntOrString(JsonFields.At(pdb, "spec", "minAvailable")),
        IntOrString(JsonFields.At(pdb, "spec", "maxUnavailable")),
        JsonFields.Integer(pdb, "status", "disruptionsAllowed"),
        Age(pdb, now),
    ];

    // intstr.IntOrString.String(), N/A when unset.
    private static string IntOrString(JsonNode? value) => value switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => "N/A",
    };

    private static JsonArray RoleBindingCells(JsonObject binding, DateTimeOffset now)
    {
        var users = new List<string>();
        var groups = new List<string>();
        var serviceAccounts = new List<string>();
        foreach (var subject in JsonFields.Array(binding, "subjects"))
        {
            var name = JsonFields.String(subject, "name");
            switch (JsonFields.String(subject, "kind"))
            {
                case "ServiceAccount":
                    serviceAccounts.Add(JsonFields.String(subject, "namespace") + "/" + name);
                    break;
                case "User":
                    users.Add(name);
                    break;
                case "Group":
                    groups.Add(name);
                    break;
            }
        }

        return
        [
            Name(binding),
            JsonFields.String(binding, "roleRef", "kind") + "/" + JsonFields.String(binding, "roleRef", "name"),
            Age(binding, now),
            string.Join(", ", users),
            string.Join(", ", groups),
            string.Join(", ", serviceAccounts),
        ];
    }

    private static JsonArray HorizontalPodAutoscalerCells(JsonObject hpa, DateTimeOffset now)
    {
        var minReplicas = JsonFields.OptionalInteger(hpa, "spec", "minReplicas");
        return
        [
            Name(hpa),
            JsonFields.String(hpa, "spec", "scaleTargetRef", "kind") + "/" + JsonFields.String(hpa, "spec", "scaleTargetRef", "name"),
            HorizontalPodAutoscalerMetrics.Format(hpa),
            minReplicas is { } min ? min.ToString(CultureInfo.InvariantCulture) : "<unset>",
            JsonFields.Integer(hpa, "spec", "maxReplicas"),
            JsonFields.Integer(hpa, "status", "currentReplicas"),
            Age(hpa, now),
        ];
    }
}
