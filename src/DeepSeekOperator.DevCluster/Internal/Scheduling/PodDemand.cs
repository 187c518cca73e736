using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Scheduling;

/// <summary>
/// What a pod asks of a node, as kube-scheduler's <c>computePodResourceRequest</c> sums it: the containers' requests
/// added up, each init container's taken as a floor (restartable sidecars add to both), then the pod overhead.
/// A container that gives a limit but no request for a resource requests its limit, as API defaulting makes it.
/// <see cref="ScoringCpu"/> and <see cref="ScoringMemory"/> count unset CPU and memory requests as 100m and 200Mi.
/// </summary>
internal sealed record PodDemand(IReadOnlyDictionary<string, long> Requests, long ScoringCpu, long ScoringMemory)
{
    private static readonly ConditionalWeakTable<StoredObject, PodDemand> Computed = [];

    /// <summary>The demand of a stored pod, computed once per stored version.</summary>
    public static PodDemand Of(StoredObject pod) => Computed.GetValue(pod, stored => Of(stored.Value));

    /// <summary>The demand of a pod.</summary>
    public static PodDemand Of(JsonObject pod)
    {
        var spec = pod["spec"];
        var requests = new Dictionary<string, long>(StringComparer.Ordinal);
        var scoring = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var container in Containers(spec, "containers"))
        {
            var (containerRequests, containerScoring) = ContainerRequests(container);
            ResourceAmounts.Add(requests, containerRequests);
            ResourceAmounts.Add(scoring, containerScoring);
        }

        var sidecars = new Dictionary<string, long>(StringComparer.Ordinal);
        var sidecarsScoring = new Dictionary<string, long>(StringComparer.Ordinal);
        var init = new Dictionary<string, long>(StringComparer.Ordinal);
        var initScoring = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var container in Containers(spec, "initContainers"))
        {
            var (own, ownScoring) = ContainerRequests(container);
            if (container["restartPolicy"]?.ToString() == "Always")
            {
                ResourceAmounts.Add(requests, own);
                ResourceAmounts.Add(scoring, ownScoring);
                ResourceAmounts.Add(sidecars, own);
                ResourceAmounts.Add(sidecarsScoring, ownScoring);
                ResourceAmounts.Max(init, sidecars);
                ResourceAmounts.Max(initScoring, sidecarsScoring);
            }
            else
            {
                var during = new Dictionary<string, long>(own, StringComparer.Ordinal);
                ResourceAmounts.Add(during, sidecars);
                var duringScoring = new Dictionary<string, long>(ownScoring, StringComparer.Ordinal);
                ResourceAmounts.Add(duringScoring, sidecarsScoring);
                ResourceAmounts.Max(init, during);
                ResourceAmounts.Max(initScoring, duringScoring);
            }
        }

        ResourceAmounts.Max(requests, init);
        ResourceAmounts.Max(scoring, initScoring);
        var overhead = ResourceAmounts.Parse(spec?["overhead"]);
        ResourceAmounts.Add(requests, overhead);
        ResourceAmounts.Add(scoring, overhead);
        return new PodDemand(requests, scoring.GetValueOrDefault(ResourceAmounts.Cpu), scoring.GetValueOrDefault(ResourceAmounts.Memory));
    }

    private static IEnumerable<JsonObject> Containers(JsonNode? spec, string list) =>
        spec?[list] is JsonArray containers ? containers.OfType<JsonObject>() : [];

    private static (Dictionary<string, long> Requests, Dictionary<string, long> Scoring) ContainerRequests(JsonObject container)
    {
        var requests = ResourceAmounts.Parse(container["resources"]?["requests"]);
        foreach (var (name, limit) in ResourceAmounts.Parse(container["resources"]?["limits"]))
        {
            requests.TryAdd(name, limit);
        }

        var scoring = new Dictionary<string, long>(requests, StringComparer.Ordinal);
        scoring.TryAdd(ResourceAmounts.Cpu, ResourceAmounts.DefaultMilliCpu);
        scoring.TryAdd(ResourceAmounts.Memory, ResourceAmounts.DefaultMemory);
        return (requests, scoring);
    }
}
