using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using k8s.Models;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// The status a DeepSeekModel should have, computed from its children as they are, keeping what other writers own
/// (autoscaling, the other conditions, the placement's imbalance) and each condition's lastTransitionTime unless its
/// status changes.
/// </summary>
internal static class ModelStatus
{
    private const string True = "True";
    private const string False = "False";

    /// <summary>The status of a model whose children exist: replica counts, placement, endpoint and the three conditions.</summary>
    public static DeepSeekModelStatus Serving(DeepSeekModelStatus? current, long generation, ModelChildren children, int experts, V1Deployment router, IReadOnlyList<V1Deployment> shards, DateTime now)
    {
        var routers = Replicas(router);
        var shardStatus = shards.Select((shard, index) => new ShardStatus
        {
            Index = index,
            Replicas = Replicas(shard).Replicas,
            ReadyReplicas = Replicas(shard).ReadyReplicas,
            Experts = children.Placement.SlotsPerShard,
        }).ToList();
        var serving = routers.ReadyReplicas > 0 && shardStatus.All(shard => shard.ReadyReplicas > 0);
        var complete = new[] { router }.Concat(shards).All(deployment => RolledOut(deployment));
        var (phase, ready, progressing, degraded) = (serving, complete) switch
        {
            (true, true) => (ModelPhase.Ready,
                Condition(ConditionTypes.Ready, True, "Serving", "Every router and shard has a ready replica."),
                Condition(ConditionTypes.Progressing, False, "RolledOut", "Every Deployment has its desired ready replicas."),
                Condition(ConditionTypes.Degraded, False, "AllReplicasReady", "Every desired replica is ready.")),
            (true, false) => (ModelPhase.Degraded,
                Condition(ConditionTypes.Ready, True, "Serving", "Every router and shard has a ready replica."),
                Condition(ConditionTypes.Progressing, True, "WaitingForReplicas", Waiting(router, shards)),
                Condition(ConditionTypes.Degraded, True, "FewerReplicasReady", Waiting(router, shards))),
            _ => (ModelPhase.Progressing,
                Condition(ConditionTypes.Ready, False, "WaitingForReplicas", Waiting(router, shards)),
                Condition(ConditionTypes.Progressing, True, "WaitingForReplicas", Waiting(router, shards)),
                Condition(ConditionTypes.Degraded, False, "NotServing", "The model does not serve yet.")),
        };
        var old = current ?? new DeepSeekModelStatus();
        return old with
        {
            ObservedGeneration = generation,
            Phase = phase,
            Endpoint = children.Endpoint,
            Experts = experts,
            ReadyShards = shardStatus.Count(shard => shard.ReadyReplicas > 0),
            Conditions = Conditions(old, generation, now, ready, progressing, degraded),
            Routers = routers,
            Shards = shardStatus,
            // The rebalancer's imbalance describes its revision; a revision the reconciler wrote has none measured yet.
            Placement = old.Placement?.Revision == children.Placement.Revision
                ? old.Placement with { ConfigMap = children.PlacementConfigMap.Metadata.Name }
                : new PlacementStatus { ConfigMap = children.PlacementConfigMap.Metadata.Name, Revision = children.Placement.Revision },
        };
    }

    /// <summary>The status of a model that cannot be served until its spec or the cluster changes: Ready=False with <paramref name="reason"/>.</summary>
    public static DeepSeekModelStatus NotServable(DeepSeekModelStatus? current, long generation, ModelPhase phase, string reason, string message, DateTime now) =>
        WithoutChildren(current, generation, phase, progressing: False, reason, message, now);

    /// <summary>The status of a model whose checkpoint's config.json a pod is reading: Pending, Progressing with <paramref name="reason"/>.</summary>
    public static DeepSeekModelStatus Reading(DeepSeekModelStatus? current, long generation, string reason, string message, DateTime now) =>
        WithoutChildren(current, generation, ModelPhase.Pending, progressing: True, reason, message, now);

    // No children to count: Ready and Degraded False, Progressing as given, all three for the same reason.
    private static DeepSeekModelStatus WithoutChildren(DeepSeekModelStatus? current, long generation, ModelPhase phase, string progressing, string reason, string message, DateTime now)
    {
        var old = current ?? new DeepSeekModelStatus();
        return old with
        {
            ObservedGeneration = generation,
            Phase = phase,
            Conditions = Conditions(
                old,
                generation,
                now,
                Condition(ConditionTypes.Ready, False, reason, message),
                Condition(ConditionTypes.Progressing, progressing, reason, message),
                Condition(ConditionTypes.Degraded, False, reason, message)),
        };
    }

    private static ReplicaStatus Replicas(V1Deployment deployment) => new()
    {
        Replicas = deployment.Status?.Replicas ?? 0,
        ReadyReplicas = deployment.Status?.ReadyReplicas ?? 0,
    };

    // The Deployment controller has seen the current spec and every desired replica is updated and ready.
    private static bool RolledOut(V1Deployment deployment)
    {
        var desired = deployment.Spec.Replicas ?? 1;
        var status = deployment.Status;
        return status is not null
            && status.ObservedGeneration >= deployment.Metadata.Generation
            && (status.UpdatedReplicas ?? 0) >= desired
            && (status.ReadyReplicas ?? 0) >= desired;
    }

    private static string Waiting(V1Deployment router, IReadOnlyList<V1Deployment> shards)
    {
        var waiting = new[] { router }.Concat(shards)
            .Where(deployment => !RolledOut(deployment))
            .Select(deployment => $"{deployment.Metadata.Name} {deployment.Status?.ReadyReplicas ?? 0}/{deployment.Spec.Replicas ?? 1}")
            .ToList();
        return waiting.Count == 0 ? "Every Deployment has its desired ready replicas." : "Waiting for ready replicas: " + string.Join(", ", waiting) + ".";
    }

    private static V1Condition Condition(string type, string status, string reason, string message) =>
        new() { Type = type, Status = status, Reason = reason, Message = message };

    // The three conditions first, then any others as they were; a condition keeps its lastTransitionTime while its status holds.
    private static List<V1Condition> Conditions(DeepSeekModelStatus old, long generation, DateTime now, params V1Condition[] conditions)
    {
        var existing = old.Conditions ?? [];
        var result = new List<V1Condition>();
        foreach (var condition in conditions)
        {
            var previous = existing.FirstOrDefault(c => c.Type == condition.Type);
            condition.ObservedGeneration = generation;
            condition.LastTransitionTime = previous is not null && previous.Status == condition.Status ? previous.LastTransitionTime : now;
            result.Add(condition);
        }

        result.AddRange(existing.Where(c => conditions.All(mine => mine.Type != c.Type)));
        return result;
    }
}
