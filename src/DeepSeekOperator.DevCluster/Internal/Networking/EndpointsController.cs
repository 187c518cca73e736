using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Networking;

/// <summary>
/// kube-controller-manager's endpoints controller: for every Service with a selector, an Endpoints object of the
/// same name whose subsets list the selected pods that have an IP — Ready pods (or all, with
/// <c>publishNotReadyAddresses</c>) under <c>addresses</c>, the others under <c>notReadyAddresses</c> — grouped by
/// the ports the service ports resolve to on each pod, with the Service's labels, the headless label, and
/// <c>endpoints.kubernetes.io/last-change-trigger-time</c>. Terminating pods are left out unless not-ready addresses
/// are published. The Endpoints of a deleted Service are deleted; Services without a selector are left to their users.
/// </summary>
internal sealed class EndpointsController(ObjectService objects, ILoggerFactory loggerFactory)
    : ControllerLoop(objects, loggerFactory, "endpoint-controller")
{
    private readonly TriggerTimes triggerTimes = new();
    private readonly SelectorIndex services = new();

    protected override bool Watches(string storageKey) => storageKey is "services" or "pods" or "endpoints";

    protected override IEnumerable<string> KeysFor(StoreEvent change) => change.StorageKey switch
    {
        "services" => ServicePods.Filed(services, change),
        "pods" => ServicePods.ServicesOf(services, change),
        _ => change.Type == StoreEventType.Deleted ? [change.Object.Key] : [],
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
        var endpointsType = Type("", "endpoints");
        var current = Store.Get(endpointsType.StorageKey, ns, name);
        var stored = Store.Get("services", ns, name);
        if (stored is null)
        {
            triggerTimes.Forget(key);
            if (current is not null)
            {
                try
                {
                    Objects.Delete(endpointsType, "v1", ns, name, new DeleteOptions(PreconditionUid: current.Uid));
                }
                catch (ApiException error) when (error.Code == 404)
                {
                }
            }

            return Task.CompletedTask;
        }

        var service = stored.Value;
        if (ServicePods.Selector(service) is not { } selector || service["spec"]?["type"]?.ToString() == "ExternalName")
        {
            return Task.CompletedTask;
        }

        var pods = ServicePods.Selected(Store, service, selector);
        var triggerTime = triggerTimes.Compute(key, service, pods);
        var subsets = Subsets(service, pods);
        var labels = new JsonObject();
        foreach (var (label, value) in service["metadata"]?["labels"] as JsonObject ?? [])
        {
            labels[label] = value?.DeepClone();
        }

        if (ServicePods.HasClusterIp(service))
        {
            labels.Remove(ServicePods.HeadlessLabel);
        }
        else
        {
            labels[ServicePods.HeadlessLabel] = "";
        }

        if (current is not null
            && JsonNode.DeepEquals(current.Value["subsets"] ?? new JsonArray(), subsets)
            && JsonNode.DeepEquals(current.Value["metadata"]?["labels"] ?? new JsonObject(), labels))
        {
            return Task.CompletedTask;
        }

        var endpoints = current?.Clone() ?? new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Endpoints",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
        };
        var metadata = Meta.Of(endpoints);
        metadata["labels"] = labels.Count > 0 ? labels : null;
        var annotations = metadata["annotations"] as JsonObject ?? [];
        if (triggerTime is { } time)
        {
            annotations[ServicePods.TriggerTimeAnnotation] = ServicePods.Rfc3339Nano(time);
        }
        else
        {
            annotations.Remove(ServicePods.TriggerTimeAnnotation);
        }

        metadata["annotations"] = annotations.Count > 0 ? annotations : null;
        endpoints["subsets"] = subsets.Count > 0 ? subsets : null;
        if (current is null)
        {
            Objects.Create(endpointsType, "v1", ns, endpoints, Writes);
        }
        else
        {
            Objects.Update(endpointsType, "v1", ns, name, endpoints, Writes, null);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The subsets as <c>RepackSubsets</c> leaves them: each resolved port mapped to the addresses offering it, then
    /// ports offered by the same set of addresses put in one subset, Ready addresses apart from the others; addresses
    /// sorted by IP, ports by name and number, subsets by their first address.
    /// </summary>
    private static JsonArray Subsets(JsonObject service, List<JsonObject> pods)
    {
        var publishNotReady = Json.Bool(service["spec"]?["publishNotReadyAddresses"]) == true;
        var servicePorts = (service["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var headless = !ServicePods.HasClusterIp(service);
        var addressesByPort = new Dictionary<string, (JsonObject? Port, Dictionary<string, (JsonObject Address, bool Ready)> Addresses)>(StringComparer.Ordinal);
        void Offer(JsonObject? port, JsonObject address, bool ready)
        {
            var key = port?.ToJsonString() ?? "";
            if (!addressesByPort.TryGetValue(key, out var entry))
            {
                entry = (port, new Dictionary<string, (JsonObject, bool)>(StringComparer.Ordinal));
                addressesByPort[key] = entry;
            }

            entry.Addresses[address.ToJsonString()] = (address, ready);
        }

        foreach (var pod in pods)
        {
            if (!ServicePods.BelongsInEndpoints(pod, publishNotReady))
            {
                continue;
            }

            var address = Address(service, pod);
            var ready = publishNotReady || ServicePods.IsReady(pod);
            if (servicePorts.Count == 0 && headless)
            {
                Offer(null, address, ready);
            }

            foreach (var servicePort in servicePorts)
            {
                if (ServicePods.FindPort(pod, servicePort) is not { } number)
                {
                    continue;
                }

                var port = new JsonObject();
                if (servicePort["name"]?.ToString() is { Length: > 0 } portName)
                {
                    port["name"] = portName;
                }

                port["port"] = number;
                port["protocol"] = servicePort["protocol"]?.ToString() ?? "TCP";
                if (servicePort["appProtocol"]?.ToString() is { } appProtocol)
                {
                    port["appProtocol"] = appProtocol;
                }

                Offer(port, address, ready);
            }
        }

        var subsets = new List<JsonObject>();
        foreach (var group in addressesByPort.Values.GroupBy(e => string.Join('|', e.Addresses.Keys.Order(StringComparer.Ordinal)), StringComparer.Ordinal))
        {
            var addresses = group.First().Addresses.Values.ToList();
            var subset = new JsonObject();
            var ready = Sorted(addresses.Where(a => a.Ready));
            var notReady = Sorted(addresses.Where(a => !a.Ready));
            if (ready.Count > 0)
            {
                subset["addresses"] = ready;
            }

            if (notReady.Count > 0)
            {
                subset["notReadyAddresses"] = notReady;
            }

            var ports = group.Select(e => e.Port).OfType<JsonObject>()
                .OrderBy(p => p["name"]?.ToString() ?? "", StringComparer.Ordinal)
                .ThenBy(p => Json.Int64(p["port"]))
                .Select(p => (JsonNode)p.DeepClone())
                .ToArray();
            if (ports.Length > 0)
            {
                subset["ports"] = new JsonArray(ports);
            }

            subsets.Add(subset);
        }

        return [.. subsets.OrderBy(s => (s["addresses"] ?? s["notReadyAddresses"])?[0]?["ip"]?.ToString(), StringComparer.Ordinal).ThenBy(s => s["ports"]?.ToJsonString(), StringComparer.Ordinal)];

        static JsonArray Sorted(IEnumerable<(JsonObject Address, bool Ready)> addresses) =>
            [.. addresses
                .OrderBy(a => System.Net.IPAddress.Parse(a.Address["ip"]!.ToString()).GetAddressBytes(), ByteOrder.Instance)
                .ThenBy(a => a.Address["targetRef"]?["uid"]?.ToString(), StringComparer.Ordinal)
                .Select(a => (JsonNode)a.Address.DeepClone())];
    }

    private static JsonObject Address(JsonObject service, JsonObject pod)
    {
        var address = new JsonObject { ["ip"] = ServicePods.Ipv4(pod) };
        if (ServicePods.SetsHostname(pod, service))
        {
            address["hostname"] = pod["spec"]!["hostname"]!.ToString();
        }

        if (pod["spec"]?["nodeName"]?.ToString() is { Length: > 0 } nodeName)
        {
            address["nodeName"] = nodeName;
        }

        address["targetRef"] = new JsonObject
        {
            ["kind"] = "Pod",
            ["namespace"] = Meta.Namespace(pod),
            ["name"] = Meta.Name(pod),
            ["uid"] = Meta.Uid(pod),
        };
        return address;
    }

    /// <summary>Orders addresses by their bytes, as <c>LessEndpointAddress</c> compares IPs.</summary>
    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => ((ReadOnlySpan<byte>)x).SequenceCompareTo(y);
    }
}
