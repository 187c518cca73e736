using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Admission;

/// <summary>
/// What kube-apiserver's registries and default admission plugins do to built-in objects on the way in:
/// defaulting (the values <c>kubectl get -o yaml</c> shows on a real cluster) and the validations our
/// components can trip over. It is not every rule of every kind; it is every rule the project relies on.
/// </summary>
internal sealed class BuiltinAdmission(ClusterIpAllocator clusterIps)
{
    /// <summary>Defaults a new object and resets what a create may not set.</summary>
    public void PrepareForCreate(ResourceType type, JsonObject obj)
    {
        switch (type.Group, type.Plural)
        {
            case ("", "pods"):
                DefaultPodSpec(Object(obj, "spec"));
                obj["spec"]!["serviceAccountName"] ??= "default";
                obj["spec"]!["serviceAccount"] ??= obj["spec"]!["serviceAccountName"]!.DeepClone();
                obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = QosClass(Object(obj, "spec")) };
                break;
            case ("", "namespaces"):
                Object(obj, "spec")["finalizers"] = new JsonArray("kubernetes");
                obj["status"] = new JsonObject { ["phase"] = "Active" };
                Object(Meta.Of(obj), "labels")["kubernetes.io/metadata.name"] = Meta.Name(obj);
                break;
            case ("", "services"):
                DefaultService(Object(obj, "spec"));
                obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
                break;
            case ("", "secrets"):
                obj["type"] ??= "Opaque";
                break;
            case ("", "persistentvolumeclaims"):
                Object(obj, "spec")["volumeMode"] ??= "Filesystem";
                obj["status"] = new JsonObject { ["phase"] = "Pending" };
                break;
            case ("apps", "deployments" or "replicasets" or "statefulsets"):
                DefaultWorkloadSpec(type.Plural, Object(obj, "spec"));
                obj.Remove("status");
                break;
            default:
                if (type.HasStatus)
                {
                    obj.Remove("status");
                }

                break;
        }

        if (type is { Group: "", Plural: "secrets" })
        {
            FoldStringData(obj);
        }
    }

    /// <summary>Defaults an update the way the registries do (e.g. templates of workloads).</summary>
    public void PrepareForUpdate(ResourceType type, JsonObject obj, JsonObject old)
    {
        switch (type.Group, type.Plural)
        {
            case ("apps", "deployments" or "replicasets" or "statefulsets"):
                DefaultWorkloadSpec(type.Plural, Object(obj, "spec"));
                break;
            case ("", "pods"):
                DefaultPodSpec(Object(obj, "spec"));
                break;
            case ("", "services"):
                var spec = Object(obj, "spec");
                if (spec["clusterIP"] is null && old["spec"]?["clusterIP"] is JsonNode ip)
                {
                    spec["clusterIP"] = ip.DeepClone();
                    spec["clusterIPs"] = old["spec"]?["clusterIPs"]?.DeepClone();
                }

                DefaultService(spec);
                break;
            case ("", "secrets"):
                FoldStringData(obj);
                break;
            case ("", "namespaces"):
                Object(Meta.Of(obj), "labels")["kubernetes.io/metadata.name"] = Meta.Name(obj);
                obj["spec"] = old["spec"]?.DeepClone();
                break;
            default:
                break;
        }
    }

    /// <summary>The validation errors of a built-in object (create when <paramref name="old"/> is null).</summary>
    public static List<FieldError> Validate(ResourceType type, JsonObject obj, JsonObject? old)
    {
        var errors = new List<FieldError>();
        switch (type.Group, type.Plural)
        {
            case ("", "pods"):
                ValidatePodSpec(obj["spec"], "spec", errors);
                if (old is not null)
                {
                    ValidatePodUpdate(obj, old, errors);
                }

                break;
            case ("apps", "deployments" or "replicasets" or "statefulsets"):
                ValidateWorkload(obj, old, errors);
                break;
            case ("", "services"):
                ValidateService(obj, old, errors);
                break;
            case ("", "configmaps" or "secrets"):
                ValidateDataKeys(obj, errors);
                ValidateDataSize(obj, errors);
                break;
            default:
                break;
        }

        return errors;
    }

    private static JsonObject Object(JsonObject parent, string field)
    {
        if (parent[field] is JsonObject child)
        {
            return child;
        }

        child = [];
        parent[field] = child;
        return child;
    }

    /// <summary>The defaults of a workload's spec, which kube-apiserver applies to every body it decodes, create or update.</summary>
    private static void DefaultWorkloadSpec(string plural, JsonObject spec)
    {
        spec["replicas"] ??= 1;
        switch (plural)
        {
            case "deployments":
                {
                    spec["revisionHistoryLimit"] ??= 10;
                    spec["progressDeadlineSeconds"] ??= 600;
                    var strategy = Object(spec, "strategy");
                    strategy["type"] ??= "RollingUpdate";
                    if (strategy["type"]?.ToString() == "RollingUpdate")
                    {
                        var rolling = Object(strategy, "rollingUpdate");
                        rolling["maxSurge"] ??= "25%";
                        rolling["maxUnavailable"] ??= "25%";
                    }

                    break;
                }

            case "statefulsets":
                {
                    spec["podManagementPolicy"] ??= "OrderedReady";
                    spec["revisionHistoryLimit"] ??= 10;
                    var strategy = Object(spec, "updateStrategy");
                    strategy["type"] ??= "RollingUpdate";
                    if (strategy["type"]?.ToString() == "RollingUpdate")
                    {
                        Object(strategy, "rollingUpdate")["partition"] ??= 0;
                    }

                    var retention = Object(spec, "persistentVolumeClaimRetentionPolicy");
                    retention["whenDeleted"] ??= "Retain";
                    retention["whenScaled"] ??= "Retain";
                    break;
                }

            default:
                break;
        }

        DefaultTemplate(spec);
    }

    private static void DefaultTemplate(JsonObject spec)
    {
        var template = Object(spec, "template");
        DefaultPodSpec(Object(template, "spec"));
    }

    private static void DefaultPodSpec(JsonObject spec)
    {
        spec["restartPolicy"] ??= "Always";
        spec["terminationGracePeriodSeconds"] ??= 30;
        spec["dnsPolicy"] ??= "ClusterFirst";
        spec["securityContext"] ??= new JsonObject();
        spec["schedulerName"] ??= "default-scheduler";
        foreach (var list in new[] { "initContainers", "containers" })
        {
            if (spec[list] is not JsonArray containers)
            {
                continue;
            }

            foreach (var container in containers.OfType<JsonObject>())
            {
                var image = container["image"]?.ToString() ?? "";
                container["imagePullPolicy"] ??= IsLatest(image) ? "Always" : "IfNotPresent";
                container["terminationMessagePath"] ??= "/dev/termination-log";
                container["terminationMessagePolicy"] ??= "File";
                container["resources"] ??= new JsonObject();
                if (container["ports"] is JsonArray ports)
                {
                    foreach (var port in ports.OfType<JsonObject>())
                    {
                        port["protocol"] ??= "TCP";
                    }
                }

                foreach (var probe in new[] { "livenessProbe", "readinessProbe", "startupProbe" })
                {
                    if (container[probe] is JsonObject p)
                    {
                        p["timeoutSeconds"] ??= 1;
                        p["periodSeconds"] ??= 10;
                        p["successThreshold"] ??= 1;
                        p["failureThreshold"] ??= 3;
                        if (p["httpGet"] is JsonObject http)
                        {
                            http["path"] ??= "/";
                            http["scheme"] ??= "HTTP";
                        }
                    }
                }
            }
        }
    }

    private static bool IsLatest(string image)
    {
        if (image.Contains('@', StringComparison.Ordinal))
        {
            return false;
        }

        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon <= slash || image[(colon + 1)..] == "latest";
    }

    private static string QosClass(JsonObject spec)
    {
        var containers = (spec["containers"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var any = false;
        var guaranteed = containers.Count > 0;
        foreach (var container in containers)
        {
            var requests = container["resources"]?["requests"] as JsonObject;
            var limits = container["resources"]?["limits"] as JsonObject;
            any |= requests is { Count: > 0 } || limits is { Count: > 0 };
            var cpu = limits?["cpu"] is not null && (requests?["cpu"] is null || requests["cpu"]!.ToString() == limits["cpu"]!.ToString());
            var memory = limits?["memory"] is not null && (requests?["memory"] is null || requests["memory"]!.ToString() == limits["memory"]!.ToString());
            guaranteed &= cpu && memory;
        }

        return guaranteed ? "Guaranteed" : any ? "Burstable" : "BestEffort";
    }

    private void DefaultService(JsonObject spec)
    {
        spec["type"] ??= "ClusterIP";
        spec["sessionAffinity"] ??= "None";
        if (spec["type"]?.ToString() != "ExternalName")
        {
            if (spec["clusterIP"] is null || spec["clusterIP"]!.ToString().Length == 0)
            {
                var ip = clusterIps.Allocate();
                spec["clusterIP"] = ip;
            }

            spec["clusterIPs"] ??= new JsonArray(spec["clusterIP"]!.ToString());
            spec["ipFamilies"] ??= new JsonArray("IPv4");
            spec["ipFamilyPolicy"] ??= "SingleStack";
            spec["internalTrafficPolicy"] ??= "Cluster";
        }

        if (spec["ports"] is JsonArray ports)
        {
            foreach (var port in ports.OfType<JsonObject>())
            {
                port["protocol"] ??= "TCP";
                if (IsUnsetTargetPort(port["targetPort"]))
                {
                    port["targetPort"] = port["port"]?.DeepClone();
                }
            }
        }
    }

    /// <summary>
    /// Whether a service port's <c>targetPort</c> counts as unset: absent, or the zero value (<c>0</c> or <c>""</c>) that a Go
    /// client marshals for an IntOrString it never set, which kube-apiserver's defaulting replaces with the port.
    /// </summary>
    private static bool IsUnsetTargetPort(JsonNode? targetPort) => targetPort is null || targetPort.ToJsonString() is "0" or "\"\"";

    private static void FoldStringData(JsonObject secret)
    {
        if (secret["stringData"] is not JsonObject stringData)
        {
            return;
        }

        var data = Object(secret, "data");
        foreach (var (key, value) in stringData)
        {
            data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(value?.ToString() ?? ""));
        }

        secret.Remove("stringData");
    }

    private static void ValidatePodSpec(JsonNode? node, string path, List<FieldError> errors)
    {
        if (node is not JsonObject spec)
        {
            errors.Add(FieldError.Required(path));
            return;
        }

        if (spec["containers"] is not JsonArray { Count: > 0 } containers)
        {
            errors.Add(FieldError.Required($"{path}.containers"));
            return;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var list in new[] { "initContainers", "containers" })
        {
            if (spec[list] is not JsonArray items)
            {
                continue;
            }

            for (var i = 0; i < items.Count; i++)
            {
                var at = $"{path}.{list}[{i}]";
                if (items[i] is not JsonObject container)
                {
                    errors.Add(FieldError.Invalid(at, items[i], "must be an object"));
                    continue;
                }

                var name = container["name"]?.ToString() ?? "";
                if (name.Length == 0)
                {
                    errors.Add(FieldError.Required($"{at}.name"));
                }
                else
                {
                    errors.AddRange(ObjectMetaValidation.Dns1123Label(name).Select(m => FieldError.Invalid($"{at}.name", name, m)));
                    if (!names.Add(name))
                    {
                        errors.Add(FieldError.Duplicate($"{at}.name", JsonValue.Create(name)));
                    }
                }

                if (string.IsNullOrWhiteSpace(container["image"]?.ToString()))
                {
                    errors.Add(FieldError.Required($"{at}.image"));
                }

                if (container["ports"] is JsonArray ports)
                {
                    for (var p = 0; p < ports.Count; p++)
                    {
                        var port = ports[p]?["containerPort"];
                        if (Json.Int64(port) is not { } number || number is < 1 or > 65535)
                        {
                            errors.Add(port is null
                                ? FieldError.Required($"{at}.ports[{p}].containerPort")
                                : FieldError.Invalid($"{at}.ports[{p}].containerPort", port, "must be between 1 and 65535, inclusive"));
                        }
                    }
                }
            }
        }

        var restart = spec["restartPolicy"]?.ToString();
        if (restart is not null and not ("Always" or "OnFailure" or "Never"))
        {
            errors.Add(FieldError.NotSupported($"{path}.restartPolicy", spec["restartPolicy"], ["Always", "Never", "OnFailure"]));
        }
    }

    private static void ValidatePodUpdate(JsonObject pod, JsonObject old, List<FieldError> errors)
    {
        static JsonObject Mutable(JsonNode? spec)
        {
            var copy = spec?.DeepClone() as JsonObject ?? [];
            foreach (var list in new[] { "containers", "initContainers" })
            {
                if (copy[list] is JsonArray containers)
                {
                    foreach (var container in containers.OfType<JsonObject>())
                    {
                        container.Remove("image");
                    }
                }
            }

            copy.Remove("activeDeadlineSeconds");
            copy.Remove("tolerations");
            copy.Remove("terminationGracePeriodSeconds");
            return copy;
        }

        if (!JsonNode.DeepEquals(Mutable(pod["spec"]), Mutable(old["spec"])))
        {
            errors.Add(FieldError.Forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
        }
    }

    private static void ValidateWorkload(JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject;
        if (spec?["replicas"] is JsonNode replicas && Json.Int64(replicas) is { } count && count < 0)
        {
            errors.Add(FieldError.Invalid("spec.replicas", replicas, "must be greater than or equal to 0"));
        }

        var selector = spec?["selector"] as JsonObject;
        if (selector is null || (selector["matchLabels"] is not JsonObject { Count: > 0 } && selector["matchExpressions"] is not JsonArray { Count: > 0 }))
        {
            errors.Add(FieldError.Required("spec.selector"));
            if (selector is not null)
            {
                errors.Add(FieldError.Invalid("spec.selector", selector, "empty selector is invalid for deployment"));
            }
        }
        else
        {
            var labels = spec!["template"]?["metadata"]?["labels"] as JsonObject;
            if (selector["matchLabels"] is JsonObject match && !match.All(m => labels?[m.Key]?.ToString() == m.Value?.ToString()))
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, "spec.template.metadata.labels", GoMap(labels), "`selector` does not match template `labels`"));
            }

            if (old?["spec"]?["selector"] is JsonNode oldSelector && !JsonNode.DeepEquals(oldSelector, selector))
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, "spec.selector", "v1.LabelSelector" + selector.ToJsonString(), "field is immutable"));
            }
        }

        ValidatePodSpec(spec?["template"]?["spec"], "spec.template.spec", errors);
    }

    private static string GoMap(JsonObject? labels) =>
        "map[string]string{" + string.Join(", ", (labels ?? []).Select(l => $"{GoText.Quote(l.Key)}:{GoText.Quote(l.Value?.ToString() ?? "")}")) + "}";

    private static void ValidateService(JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject ?? [];
        var type = spec["type"]?.ToString() ?? "ClusterIP";
        if (type is not ("ClusterIP" or "NodePort" or "LoadBalancer" or "ExternalName"))
        {
            errors.Add(FieldError.NotSupported("spec.type", spec["type"], ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]));
        }

        var headless = spec["clusterIP"]?.ToString() == "None";
        var ports = spec["ports"] as JsonArray ?? [];
        if (ports.Count == 0 && !headless && type != "ExternalName")
        {
            errors.Add(FieldError.Required("spec.ports"));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < ports.Count; i++)
        {
            var port = ports[i] as JsonObject ?? [];
            var name = port["name"]?.ToString() ?? "";
            if (ports.Count > 1 && name.Length == 0)
            {
                errors.Add(FieldError.Required($"spec.ports[{i}].name"));
            }
            else if (name.Length > 0 && !names.Add(name))
            {
                errors.Add(FieldError.Duplicate($"spec.ports[{i}].name", JsonValue.Create(name)));
            }

            if (Json.Int64(port["port"]) is not { } number || number is < 1 or > 65535)
            {
                errors.Add(port["port"] is null
                    ? FieldError.Required($"spec.ports[{i}].port")
                    : FieldError.Invalid($"spec.ports[{i}].port", port["port"], "must be between 1 and 65535, inclusive"));
            }
        }

        var oldIp = old?["spec"]?["clusterIP"]?.ToString();
        if (oldIp is { Length: > 0 } && spec["clusterIP"]?.ToString() is { } ip && ip != oldIp)
        {
            errors.Add(FieldError.Invalid("spec.clusterIPs[0]", ip, "may not change once set"));
        }
    }

    /// <summary>
    /// The most bytes a ConfigMap's or Secret's values may hold together (<c>api.MaxSecretSize</c>, 1 MiB), below
    /// etcd's 1.5 MiB request limit; the keys do not count.
    /// </summary>
    public const int MaxDataBytes = 1024 * 1024;

    // ValidateConfigMap and ValidateSecret: the values' bytes together (binaryData and a Secret's data decoded), an
    // error on the whole object ("[]: Too long: must have at most 1048576 bytes").
    private static void ValidateDataSize(JsonObject obj, List<FieldError> errors)
    {
        long total = 0;
        foreach (var field in new[] { "data", "binaryData" })
        {
            foreach (var (_, value) in obj[field] as JsonObject ?? [])
            {
                if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                {
                    var text = v.GetValue<string>();
                    total += field == "binaryData" || obj["kind"]?.ToString() == "Secret" ? text.Length / 4 * 3 - text.Count(c => c == '=') : Encoding.UTF8.GetByteCount(text);
                }
            }
        }

        if (total > MaxDataBytes)
        {
            errors.Add(new FieldError(FieldErrorType.TooLong, "[]", null, $"must have at most {MaxDataBytes} bytes"));
        }
    }

    private static void ValidateDataKeys(JsonObject obj, List<FieldError> errors)
    {
        foreach (var field in new[] { "data", "binaryData" })
        {
            if (obj[field] is not JsonObject data)
            {
                continue;
            }

            foreach (var (key, value) in data)
            {
                if (key.Length == 0 || key.Length > 253 || key is "." or ".." || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
                {
                    errors.Add(FieldError.Invalid($"{field}[{key}]", key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
                }

                if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                {
                    errors.Add(FieldError.Invalid($"{field}[{key}]", value, "must be a string"));
                }
                else if (field == "binaryData" || obj["kind"]?.ToString() == "Secret")
                {
                    var text = v.GetValue<string>();
                    var buffer = new byte[text.Length];
                    if (!Convert.TryFromBase64String(text, buffer, out _))
                    {
                        errors.Add(FieldError.Invalid($"{field}[{key}]", "<secret contents redacted>", "illegal base64 data"));
                    }
                }
            }
        }
    }
}

/// <summary>
/// Hands out service cluster IPs from <see cref="Range"/>, 127.96.0.0/16: loopback addresses, so that the dev cluster's
/// service proxy can listen on them, mirroring kube-apiserver's default 10.96.0.0/12 and kept clear of pod IPs (which
/// count up from 127.0.0.2 and stop below 127.96.0.0). The <c>kubernetes</c> Service has the first, 127.96.0.1.
/// </summary>
internal sealed class ClusterIpAllocator
{
    /// <summary>The service range, 127.96.0.0/16, as <c>--service-cluster-ip-range</c> would give it.</summary>
    public const string Range = "127.96.0.0/16";

    /// <summary>The <c>kubernetes</c> Service's address, the first of the range.</summary>
    public const string KubernetesServiceIp = "127.96.0.1";

    private const uint Base = (127u << 24) | (96u << 16);
    private const uint Size = 1u << 16;

    private readonly Lock gate = new();
    private readonly HashSet<uint> used = [];
    private uint next = 10;

    /// <summary>Marks an address as taken (objects loaded from the state directory).</summary>
    public void Reserve(string ip)
    {
        if (System.Net.IPAddress.TryParse(ip, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            var bytes = address.GetAddressBytes();
            lock (gate)
            {
                used.Add((uint)((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]));
            }
        }
    }

    /// <summary>The next free address of the range (from .10, as the first ones are kept for well-known Services).</summary>
    public string Allocate()
    {
        lock (gate)
        {
            for (var tried = 0u; tried < Size; tried++)
            {
                var candidate = Base + next;
                next = next + 1 >= Size - 1 ? 10 : next + 1;
                if (used.Add(candidate))
                {
                    return $"{candidate >> 24}.{(candidate >> 16) & 255}.{(candidate >> 8) & 255}.{candidate & 255}";
                }
            }

            throw new InvalidOperationException($"the service range {Range} is full");
        }
    }
}
