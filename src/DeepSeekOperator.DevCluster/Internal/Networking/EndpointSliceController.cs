using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Networking;

/// <summary>
/// kube-controller-manager's EndpointSlice controller: for every Service with a selector, IPv4 EndpointSlices
/// (named <c>&lt;service&gt;-&lt;random&gt;</c>, labelled with the service name and
/// <c>endpointslice.kubernetes.io/managed-by</c>, owned by the Service) listing the selected pods that have an IP,
/// with the <c>ready</c>, <c>serving</c> and <c>terminating</c> conditions Kubernetes computes, their node, zone
/// and target reference, and the service ports resolved on each pod. Pods that resolve to the same ports share slices
/// of up to 100 endpoints; slices are updated in place, filled before new ones are made, a slice that would be made
/// while another is deleted is written over that one instead, and a Service without
/// endpoints keeps one empty placeholder slice. Slices of a Service that lost its selector are deleted; slices of a
/// deleted Service go with it through the garbage collector; slices managed by anyone else are never touched.
/// </summary>
internal sealed class EndpointSliceController(ObjectService objects, ILoggerFactory loggerFactory)
    : ControllerLoop(objects, loggerFactory, "endpointslice-controller")
{
    /// <summary>The value of <c>endpointslice.kubernetes.io/managed-by</c> on the slices this controller owns.</summary>
    public const string ManagedBy = "endpointslice-controller.k8s.io";

    /// <summary>The most endpoints one slice holds (<c>--max-endpoints-per-slice</c>).</summary>
    public const int MaxEndpointsPerSlice = 100;

    private const string ServiceNameLabel = "kubernetes.io/service-name";
    private const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    private const string SlicesKey = "discovery.k8s.io/endpointslices";
    private static readonly TimeSpan MissingNodeRetry = TimeSpan.FromSeconds(1);
    private readonly TriggerTimes triggerTimes = new();
    private readonly SelectorIndex services = new();

    protected override bool Watches(string storageKey) => storageKey is "services" or "pods" or SlicesKey;

    protected override IEnumerable<string> KeysFor(StoreEvent change) => change.StorageKey switch
    {
        "services" => ServicePods.Filed(services, change),
        "pods" => ServicePods.ServicesOf(services, change),
        _ => Meta.Label(change.Object.Value, ManagedByLabel) == ManagedBy && Meta.Label(change.Object.Value, ServiceNameLabel) is { Length: > 0 } service
            ? [StoredObject.KeyOf(change.Object.Namespace, service)]
            : [],
    };

    protected override IEnumerable<string> InitialKeys() => ServicePods.FileAll(services, Store);

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        if (key == ServicePods.ApiServerServiceKey)
        {
            return Task.CompletedTask;
        }

        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var (ns, name) = (key[..slash], key[(slash + 1)..]);
        var stored = Store.Get("services", ns, name);
        if (stored is null || Meta.IsDeleting(stored.Value))
        {
            triggerTimes.Forget(key);
            return Task.CompletedTask;
        }

        var service = stored.Value;
        var slices = Type("discovery.k8s.io", "endpointslices");
        var existing = Store.ListLabelled(SlicesKey, ns, ServiceNameLabel, name)
            .Where(s => Meta.Label(s.Value, ServiceNameLabel) == name && Meta.Label(s.Value, ManagedByLabel) == ManagedBy)
            .ToList();
        if (ServicePods.Selector(service) is not { } selector || service["spec"]?["type"]?.ToString() == "ExternalName")
        {
            triggerTimes.Forget(key);
            foreach (var slice in existing)
            {
                Delete(slices, slice);
            }

            return Task.CompletedTask;
        }

        var pods = ServicePods.Selected(Store, service, selector);
        var triggerTime = triggerTimes.Compute(key, service, pods);
        var (desired, nodeMissing) = DesiredEndpoints(service, pods);

        var owned = existing.Where(s => OwnedBy(s.Value, stored.Uid) && s.Value["addressType"]?.ToString() == "IPv4").ToList();
        var toDelete = existing.Except(owned).ToList();
        var toUpdate = new List<JsonObject>();
        var toCreate = new List<JsonObject>();
        foreach (var slice in owned.Where(s => !desired.ContainsKey(PortsKey(s.Value["ports"]))))
        {
            toDelete.Add(slice);
        }

        foreach (var (portsKey, (ports, endpoints)) in desired)
        {
            Converge(service, ports, endpoints, [.. owned.Where(s => PortsKey(s.Value["ports"]) == portsKey).OrderBy(s => s.Name, StringComparer.Ordinal)], toDelete, toUpdate, toCreate);
        }

        if (existing.Count == toDelete.Count && toCreate.Count == 0)
        {
            // A Service without endpoints keeps one empty placeholder slice.
            if (toDelete.Count == 1 && IsPlaceholder(toDelete[0].Value) && owned.Contains(toDelete[0]))
            {
                toDelete.Clear();
            }
            else
            {
                toCreate.Add(NewSlice(service, null));
            }
        }

        ReplaceInPlace(stored.Uid, toCreate, toUpdate, toDelete);

        foreach (var slice in toCreate)
        {
            Label(slice, service);
            SetTriggerTime(slice, triggerTime);
            Objects.Create(slices, "v1", ns, slice, Writes);
        }

        foreach (var slice in toUpdate)
        {
            Label(slice, service);
            SetTriggerTime(slice, triggerTime);
            Objects.Update(slices, "v1", ns, Meta.Name(slice), slice, Writes, null);
        }

        foreach (var slice in owned.Except(toDelete).Where(s => !toUpdate.Any(u => Meta.Name(u) == s.Name)))
        {
            // Unchanged slices still follow the Service's labels.
            var relabelled = slice.Clone();
            Label(relabelled, service);
            if (!JsonNode.DeepEquals(relabelled["metadata"]?["labels"], slice.Value["metadata"]?["labels"]))
            {
                Objects.Update(slices, "v1", ns, slice.Name, relabelled, Writes, null);
            }
        }

        foreach (var slice in toDelete)
        {
            Delete(slices, slice);
        }

        if (nodeMissing)
        {
            Enqueue(key, MissingNodeRetry);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The reconciler's three steps for the slices of one port set: keep each existing endpoint still wanted (as it is
    /// now wanted) and drop the rest, deleting slices left empty; put the new endpoints into slices already being
    /// updated while they have room; then into the fullest unchanged slice that takes them all, else into new slices.
    /// </summary>
    private static void Converge(JsonObject service, JsonArray ports, List<JsonObject> endpoints, List<StoredObject> existing, List<StoredObject> toDelete, List<JsonObject> toUpdate, List<JsonObject> toCreate)
    {
        var wanted = endpoints.ToDictionary(AddressKey, StringComparer.Ordinal);
        var placed = new HashSet<string>(StringComparer.Ordinal);
        var unchanged = new List<JsonObject>();
        var updating = new List<JsonObject>();
        foreach (var slice in existing)
        {
            var kept = new JsonArray();
            foreach (var endpoint in (slice.Value["endpoints"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var address = AddressKey(endpoint);
                if (wanted.TryGetValue(address, out var now) && placed.Add(address))
                {
                    kept.Add(now.DeepClone());
                }
            }

            if (kept.Count == 0)
            {
                toDelete.Add(slice);
                continue;
            }

            var copy = slice.Clone();
            var changed = !JsonNode.DeepEquals(kept, slice.Value["endpoints"]);
            copy["endpoints"] = kept;
            (changed ? updating : unchanged).Add(copy);
        }

        var remaining = new Queue<JsonObject>(endpoints.Where(e => !placed.Contains(AddressKey(e))));
        foreach (var slice in updating)
        {
            Fill(slice, remaining);
        }

        while (remaining.Count > 0)
        {
            var target = remaining.Count < MaxEndpointsPerSlice
                ? unchanged.Where(s => Count(s) + remaining.Count <= MaxEndpointsPerSlice).OrderByDescending(Count).FirstOrDefault()
                : null;
            if (target is null)
            {
                var created = NewSlice(service, ports);
                Fill(created, remaining);
                toCreate.Add(created);
                continue;
            }

            unchanged.Remove(target);
            Fill(target, remaining);
            updating.Add(target);
        }

        toUpdate.AddRange(updating);

        static int Count(JsonObject slice) => (slice["endpoints"] as JsonArray)?.Count ?? 0;

        static void Fill(JsonObject slice, Queue<JsonObject> remaining)
        {
            var list = slice["endpoints"] as JsonArray ?? [];
            while (list.Count < MaxEndpointsPerSlice && remaining.TryDequeue(out var endpoint))
            {
                list.Add(endpoint.DeepClone());
            }

            slice["endpoints"] = list;
        }
    }

    /// <summary>
    /// The reconciler's <c>finalize</c>: a slice to create takes the name of one to delete (of the same address type and
    /// owned by the Service) and is written over it, with no resourceVersion, rather than one created and one deleted.
    /// </summary>
    private static void ReplaceInPlace(string serviceUid, List<JsonObject> toCreate, List<JsonObject> toUpdate, List<StoredObject> toDelete)
    {
        for (var i = 0; i < toDelete.Count && toCreate.Count > 0;)
        {
            var old = toDelete[i];
            var slice = toCreate[^1];
            if (Json.String(old.Value["addressType"]) == Json.String(slice["addressType"]) && OwnedBy(old.Value, serviceUid))
            {
                Meta.Of(slice)["name"] = old.Name;
                toCreate.RemoveAt(toCreate.Count - 1);
                toUpdate.Add(slice);
                toDelete.RemoveAt(i);
            }
            else
            {
                i++;
            }
        }
    }

    /// <summary>The endpoints of the selected pods grouped by the ports they resolve to; and whether a pod's node is missing.</summary>
    private (Dictionary<string, (JsonArray Ports, List<JsonObject> Endpoints)> Groups, bool NodeMissing) DesiredEndpoints(JsonObject service, List<JsonObject> pods)
    {
        var publishNotReady = Json.Bool(service["spec"]?["publishNotReadyAddresses"]) == true;
        var groups = new Dictionary<string, (JsonArray Ports, List<JsonObject> Endpoints)>(StringComparer.Ordinal);
        var nodeMissing = false;
        foreach (var pod in pods.OrderBy(Meta.Name, StringComparer.Ordinal))
        {
            if (!ServicePods.BelongsInEndpoints(pod, includeTerminating: true))
            {
                continue;
            }

            var nodeName = pod["spec"]?["nodeName"]?.ToString() ?? "";
            var node = nodeName.Length > 0 ? Store.Get("nodes", "", nodeName)?.Value : null;
            if (node is null && !publishNotReady)
            {
                // As kube-controller-manager does, a pod on a node that does not exist is left out until it does.
                nodeMissing = true;
                continue;
            }

            var ports = Ports(service, pod);
            var portsKey = PortsKey(ports);
            if (!groups.TryGetValue(portsKey, out var group))
            {
                group = (ports, []);
                groups[portsKey] = group;
            }

            group.Endpoints.Add(Endpoint(service, pod, node, publishNotReady));
        }

        return (groups, nodeMissing);
    }

    /// <summary><c>podToEndpoint</c>: serving when Ready, ready when serving and not terminating, or always when publishing not-ready addresses.</summary>
    private static JsonObject Endpoint(JsonObject service, JsonObject pod, JsonObject? node, bool publishNotReady)
    {
        var serving = publishNotReady || ServicePods.IsReady(pod);
        var terminating = Meta.IsDeleting(pod);
        var endpoint = new JsonObject
        {
            ["addresses"] = new JsonArray(ServicePods.Ipv4(pod)),
            ["conditions"] = new JsonObject
            {
                ["ready"] = publishNotReady || (serving && !terminating),
                ["serving"] = serving,
                ["terminating"] = terminating,
            },
        };
        if (ServicePods.SetsHostname(pod, service))
        {
            endpoint["hostname"] = pod["spec"]!["hostname"]!.ToString();
        }

        endpoint["targetRef"] = new JsonObject
        {
            ["kind"] = "Pod",
            ["namespace"] = Meta.Namespace(pod),
            ["name"] = Meta.Name(pod),
            ["uid"] = Meta.Uid(pod),
        };
        if (pod["spec"]?["nodeName"]?.ToString() is { Length: > 0 } nodeName)
        {
            endpoint["nodeName"] = nodeName;
        }

        if (node?["metadata"]?["labels"]?["topology.kubernetes.io/zone"]?.ToString() is { Length: > 0 } zone)
        {
            endpoint["zone"] = zone;
        }

        return endpoint;
    }

    /// <summary><c>getEndpointPorts</c>: each service port resolved on the pod, skipping those it cannot resolve.</summary>
    private static JsonArray Ports(JsonObject service, JsonObject pod)
    {
        var ports = new JsonArray();
        foreach (var servicePort in (service["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (ServicePods.FindPort(pod, servicePort) is not { } number)
            {
                continue;
            }

            var port = new JsonObject
            {
                ["name"] = servicePort["name"]?.ToString() ?? "",
                ["protocol"] = servicePort["protocol"]?.ToString() ?? "TCP",
                ["port"] = number,
            };
            if (servicePort["appProtocol"]?.ToString() is { } appProtocol)
            {
                port["appProtocol"] = appProtocol;
            }

            ports.Add(port);
        }

        return ports;
    }

    private static string PortsKey(JsonNode? ports) =>
        string.Join(';', (ports as JsonArray ?? []).Select(p => $"{p?["name"]}/{p?["protocol"]}/{p?["port"]}/{p?["appProtocol"]}").Order(StringComparer.Ordinal));

    private static string AddressKey(JsonObject endpoint) =>
        string.Join(',', (endpoint["addresses"] as JsonArray ?? []).Select(a => a?.ToString()).Order(StringComparer.Ordinal));

    private static bool OwnedBy(JsonObject slice, string serviceUid) =>
        Meta.Owners(slice).Any(o => o is { Kind: "Service", ApiVersion: "v1", Controller: true } && o.Uid == serviceUid);

    private static bool IsPlaceholder(JsonObject slice) =>
        slice["endpoints"] is not JsonArray { Count: > 0 } && slice["ports"] is not JsonArray { Count: > 0 };

    private static JsonObject NewSlice(JsonObject service, JsonArray? ports)
    {
        var slice = new JsonObject
        {
            ["apiVersion"] = "discovery.k8s.io/v1",
            ["kind"] = "EndpointSlice",
            ["metadata"] = new JsonObject
            {
                ["generateName"] = Meta.Name(service) + "-",
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Service",
                    ["name"] = Meta.Name(service),
                    ["uid"] = Meta.Uid(service),
                    ["controller"] = true,
                    ["blockOwnerDeletion"] = true,
                }),
            },
            ["addressType"] = "IPv4",
            ["endpoints"] = null,
            ["ports"] = ports?.DeepClone(),
        };
        return slice;
    }

    /// <summary><c>setEndpointSliceLabels</c>: the Service's labels, the headless label when it has no cluster IP, then the reserved ones.</summary>
    private static void Label(JsonObject slice, JsonObject service)
    {
        var labels = new JsonObject();
        foreach (var (key, value) in (service["metadata"]?["labels"] as JsonObject ?? []).Where(l => l.Key is not (ServiceNameLabel or ManagedByLabel)))
        {
            labels[key] = value?.DeepClone();
        }

        if (ServicePods.HasClusterIp(service))
        {
            labels.Remove(ServicePods.HeadlessLabel);
        }
        else
        {
            labels[ServicePods.HeadlessLabel] = "";
        }

        labels[ServiceNameLabel] = Meta.Name(service);
        labels[ManagedByLabel] = ManagedBy;
        Meta.Of(slice)["labels"] = labels;
    }

    private static void SetTriggerTime(JsonObject slice, DateTimeOffset? triggerTime)
    {
        var metadata = Meta.Of(slice);
        var annotations = metadata["annotations"] as JsonObject ?? [];
        if (triggerTime is { } time)
        {
            annotations[ServicePods.TriggerTimeAnnotation] = ServicePods.Rfc3339Nano(time);
        }
        else
        {
            annotations.Remove(ServicePods.TriggerTimeAnnotation);
        }

        if (annotations.Count > 0)
        {
            metadata["annotations"] = annotations;
        }
        else
        {
            metadata.Remove("annotations");
        }
    }

    private void Delete(ResourceType slices, StoredObject slice) =>
        Objects.Delete(slices, "v1", slice.Namespace, slice.Name, new DeleteOptions(PreconditionUid: slice.Uid));
}
