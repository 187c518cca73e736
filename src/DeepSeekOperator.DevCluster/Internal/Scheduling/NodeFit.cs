using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;

namespace DeepSeekOperator.DevCluster.Internal.Scheduling;

/// <summary>A node as the scheduler sees it: the Node object and what its pods already take.</summary>
internal sealed class NodeSlot(JsonObject node, PodTotals counted)
{
    public JsonObject Node { get; } = node;

    public string Name { get; } = Meta.Name(node);

    public IReadOnlyDictionary<string, long> Allocatable { get; } = ResourceAmounts.Parse(node["status"]?["allocatable"]);

    /// <summary>The pods bound to the node that are not terminal.</summary>
    public int Pods => counted.Pods;

    /// <summary>The requests of those pods, summed.</summary>
    public IReadOnlyDictionary<string, long> Requested => counted.Requested;

    public long ScoringCpu => counted.ScoringCpu;

    public long ScoringMemory => counted.ScoringMemory;
}

/// <summary>Why a node cannot take a pod: the reasons kube-scheduler prints, and whether evicting pods could help.</summary>
internal sealed record NodeRejection(IReadOnlyList<string> Reasons, bool PreemptionMightHelp);

/// <summary>
/// The filters and the score of kube-scheduler's default plugins that the dev cluster supports, in their order:
/// NodeUnschedulable, TaintToleration, NodeAffinity (nodeSelector and required node affinity) and NodeResourcesFit;
/// then NodeResourcesFit's LeastAllocated score. The first filter a node fails gives its reasons, as in the framework.
/// </summary>
internal static class NodeFit
{
    private const string UnschedulableTaint = "node.kubernetes.io/unschedulable";

    /// <summary>Null when the pod fits the node; otherwise why not.</summary>
    public static NodeRejection? Filter(JsonObject pod, PodDemand demand, NodeSlot node)
    {
        var spec = pod["spec"];
        var tolerations = spec?["tolerations"] as JsonArray ?? [];
        if (Json.Bool(node.Node["spec"]?["unschedulable"]) == true && !Tolerates(tolerations, UnschedulableTaint, "", "NoSchedule"))
        {
            return new NodeRejection(["node(s) were unschedulable"], false);
        }

        foreach (var taint in (node.Node["spec"]?["taints"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var effect = taint["effect"]?.ToString() ?? "";
            var key = taint["key"]?.ToString() ?? "";
            var value = taint["value"]?.ToString() ?? "";
            if (effect is "NoSchedule" or "NoExecute" && !Tolerates(tolerations, key, value, effect))
            {
                return new NodeRejection([$"node(s) had untolerated taint {{{key}: {value}}}"], false);
            }
        }

        if (!MatchesSelectorAndAffinity(spec, node))
        {
            return new NodeRejection(["node(s) didn't match Pod's node affinity/selector"], false);
        }

        var insufficient = Insufficient(demand, node);
        return insufficient.Count == 0 ? null : new NodeRejection(insufficient, true);
    }

    /// <summary>NodeResourcesFit's LeastAllocated score (0–100) over CPU and memory, counting unset requests as the defaults.</summary>
    public static long Score(PodDemand demand, NodeSlot node)
    {
        long total = 0;
        long weights = 0;
        foreach (var (requested, allocatable) in new[]
        {
            (node.ScoringCpu + demand.ScoringCpu, node.Allocatable.GetValueOrDefault(ResourceAmounts.Cpu)),
            (node.ScoringMemory + demand.ScoringMemory, node.Allocatable.GetValueOrDefault(ResourceAmounts.Memory)),
        })
        {
            if (allocatable == 0)
            {
                continue;
            }

            total += requested > allocatable ? 0 : (allocatable - requested) * 100 / allocatable;
            weights++;
        }

        return weights == 0 ? 0 : total / weights;
    }

    /// <summary>Whether a toleration list tolerates a taint (<c>Toleration.ToleratesTaint</c>).</summary>
    public static bool Tolerates(JsonArray tolerations, string key, string value, string effect) =>
        tolerations.OfType<JsonObject>().Any(toleration =>
        {
            var tolerationEffect = toleration["effect"]?.ToString() ?? "";
            var tolerationKey = toleration["key"]?.ToString() ?? "";
            if (tolerationEffect.Length > 0 && tolerationEffect != effect)
            {
                return false;
            }

            if (tolerationKey.Length > 0 && tolerationKey != key)
            {
                return false;
            }

            return (toleration["operator"]?.ToString() ?? "") switch
            {
                "" or "Equal" => (toleration["value"]?.ToString() ?? "") == value,
                "Exists" => true,
                _ => false,
            };
        });

    private static List<string> Insufficient(PodDemand demand, NodeSlot node)
    {
        var reasons = new List<string>();
        if (node.Pods + 1 > node.Allocatable.GetValueOrDefault(ResourceAmounts.Pods))
        {
            reasons.Add("Too many pods");
        }

        foreach (var resource in new[] { ResourceAmounts.Cpu, ResourceAmounts.Memory, ResourceAmounts.EphemeralStorage })
        {
            var wanted = demand.Requests.GetValueOrDefault(resource);
            if (wanted > 0 && wanted > node.Allocatable.GetValueOrDefault(resource) - node.Requested.GetValueOrDefault(resource))
            {
                reasons.Add("Insufficient " + resource);
            }
        }

        foreach (var (resource, wanted) in demand.Requests.Where(r => ResourceAmounts.IsScalar(r.Key)).OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (wanted > 0 && wanted > node.Allocatable.GetValueOrDefault(resource) - node.Requested.GetValueOrDefault(resource))
            {
                reasons.Add("Insufficient " + resource);
            }
        }

        return reasons;
    }

    private static bool MatchesSelectorAndAffinity(JsonNode? spec, NodeSlot node)
    {
        var labels = node.Node["metadata"]?["labels"] as JsonObject;
        if (spec?["nodeSelector"] is JsonObject selector)
        {
            foreach (var (key, value) in selector)
            {
                if (labels?[key]?.ToString() != value?.ToString())
                {
                    return false;
                }
            }
        }

        if (spec?["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"] is not JsonObject required)
        {
            return true;
        }

        var fields = new JsonObject { ["metadata.name"] = node.Name };
        return (required["nodeSelectorTerms"] as JsonArray ?? []).OfType<JsonObject>().Any(term =>
        {
            var expressions = term["matchExpressions"] as JsonArray ?? [];
            var matchFields = term["matchFields"] as JsonArray ?? [];
            if (expressions.Count == 0 && matchFields.Count == 0)
            {
                return false;
            }

            var requirements = expressions.Select(Requirement).ToList();
            var fieldRequirements = matchFields.Select(Requirement).ToList();
            return requirements.All(r => r?.Matches(labels) == true) && fieldRequirements.All(r => r is { Key: "metadata.name" } && r.Matches(fields));
        });
    }

    /// <summary>A node selector requirement as a label requirement; null when it is invalid (its term then matches nothing).</summary>
    private static LabelRequirement? Requirement(JsonNode? node)
    {
        var values = (node?["values"] as JsonArray ?? []).Select(v => v?.ToString() ?? "").ToList();
        LabelOperator? op = node?["operator"]?.ToString() switch
        {
            "In" when values.Count > 0 => LabelOperator.In,
            "NotIn" when values.Count > 0 => LabelOperator.NotIn,
            "Exists" when values.Count == 0 => LabelOperator.Exists,
            "DoesNotExist" when values.Count == 0 => LabelOperator.DoesNotExist,
            "Gt" when values.Count == 1 => LabelOperator.GreaterThan,
            "Lt" when values.Count == 1 => LabelOperator.LessThan,
            _ => null,
        };
        return op is { } valid ? new LabelRequirement(node?["key"]?.ToString() ?? "", valid, values) : null;
    }
}
