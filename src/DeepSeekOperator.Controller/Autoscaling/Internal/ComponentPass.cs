using System.Globalization;
using DeepSeekOperator.Api.V1Alpha1;

namespace DeepSeekOperator.Controller.Autoscaling.Internal;

/// <summary>One component's part of an autoscaling pass: what was read and what was decided.</summary>
/// <param name="Component">The <c>component</c> label: <c>router</c> or <c>shard-&lt;k&gt;</c>.</param>
/// <param name="Shard">The shard's index; null for the routers.</param>
/// <param name="Deployment">The Deployment scaled.</param>
/// <param name="Metric">The metric's name in messages: the built-in one, or <c>query</c>.</param>
/// <param name="Target">The target value per replica.</param>
/// <param name="MinReplicas">The component's <c>minReplicas</c>.</param>
/// <param name="MaxReplicas">The component's <c>maxReplicas</c>.</param>
/// <param name="Current">The Deployment's replicas when the pass read it.</param>
/// <param name="Total">The component's total load; null when it could not be read.</param>
/// <param name="Decision">The decision; null when the load could not be read.</param>
/// <param name="Error">Why the load could not be read, naming the query; null when it was.</param>
internal sealed record ComponentPass(
    string Component, int? Shard, string Deployment, string Metric, double Target, int MinReplicas, int MaxReplicas, int Current, double? Total, ReplicaDecision? Decision, string? Error)
{
    /// <summary>Without a decision, the current count brought within <c>[minReplicas, maxReplicas]</c>; null when not computed.</summary>
    public int? Bounded { get; init; }

    /// <summary>The replicas to have: the decision's, else the current count within the bounds.</summary>
    public int Desired => Decision?.Desired ?? Bounded ?? Current;

    /// <summary>The load per replica.</summary>
    public double? PerReplica => Total / Current;

    /// <summary>The component as Events and conditions name it.</summary>
    public string Name => Shard is null ? "routers" : Component;

    /// <summary>The message of the Event of a change: <c>routers: inflightRequests 96 for 1 replica (target 32): 1 → 3</c>.</summary>
    public string ChangeMessage => Decision is null
        ? string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {Current} {(Current == 1 ? "replica" : "replicas")} {(Current > MaxReplicas ? $"above maxReplicas {MaxReplicas}" : $"below minReplicas {MinReplicas}")}, with no {Metric} to read: {Current} → {Desired}")
        : string.Create(CultureInfo.InvariantCulture,
            $"{Name}: {Metric} {Number(Total ?? 0)} for {Current} {(Current == 1 ? "replica" : "replicas")} (target {Number(Target)}): {Current} → {Desired}");

    /// <summary>Why the decision was held back, in the HorizontalPodAutoscaler's words; null when it was not.</summary>
    public string? LimitMessage => Decision?.Limit switch
    {
        ScalingLimit.TooFewReplicas => $"{Name}: the desired replica count is less than the minimum replica count ({Decision.Recommended} recommended, {Desired} kept)",
        ScalingLimit.TooManyReplicas => $"{Name}: the desired replica count is more than the maximum replica count ({Decision.Recommended} recommended, {Desired} kept)",
        ScalingLimit.ScaleUpLimit => $"{Name}: the desired replica count is increasing faster than the maximum scale rate ({Decision.Recommended} recommended, {Desired} this step)",
        ScalingLimit.ScaleDownLimit => $"{Name}: the desired replica count is decreasing faster than the maximum scale rate ({Decision.Recommended} recommended, {Desired} this step)",
        _ => null,
    };

    /// <summary>The decision as the status records it.</summary>
    public ScalingDecision Status => new() { Current = Current, Desired = Desired, MetricValue = PerReplica };

    /// <summary>The decision of a shard as the status records it.</summary>
    public ShardScalingDecision ShardStatus => new() { Index = Shard ?? 0, Current = Current, Desired = Desired, MetricValue = PerReplica };

    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
