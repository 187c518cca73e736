using DeepSeekOperator.Api.V1Alpha1;

namespace DeepSeekOperator.Controller.Autoscaling;

/// <summary>
/// The replica count of one component from its total load, as the Kubernetes HorizontalPodAutoscaler computes it for
/// an <c>AverageValue</c> target (<c>GetObjectMetricReplicas</c>, then <c>normalizeDesiredReplicasWithBehaviors</c>):
/// the usage ratio (total / current) / target within <see cref="Tolerance"/> keeps the current count, else
/// ceil(total / target) is recommended; the recommendation is stabilized (scale up to the lowest recommendation of the
/// scale-up window, down to the highest of the scale-down window), limited to <c>maxChangePercent</c> of the current
/// count per step (at least one replica), and clamped to [min, max]. Pure but for the recommendation history it keeps
/// per component, timestamped by the injected clock and pruned to the longer window.
/// </summary>
/// <param name="time">The clock of the recommendation history.</param>
public sealed class ReplicaCalculator(TimeProvider time)
{
    /// <summary>How far the usage ratio may stray from 1 before the count changes (the HPA's default).</summary>
    public const double Tolerance = 0.1;

    private readonly Dictionary<string, List<Recommendation>> history = new(StringComparer.Ordinal);

    /// <summary>Decides <paramref name="component"/>'s replicas and records the raw recommendation in its history.</summary>
    /// <param name="component">The component's name in the history, such as <c>router</c> or <c>shard-2</c>.</param>
    /// <param name="current">The replicas it has now, at least 1.</param>
    /// <param name="total">Its total load over all its pods, finite and not negative.</param>
    /// <param name="scaling">The bounds and the target value per replica.</param>
    /// <param name="behavior">The stabilization windows and rate limits.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range; the message names it.</exception>
    public ReplicaDecision Decide<TMetric>(string component, int current, double total, ComponentAutoscaling<TMetric> scaling, ScalingBehavior behavior)
        where TMetric : struct, Enum
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        ArgumentNullException.ThrowIfNull(scaling);
        ArgumentNullException.ThrowIfNull(behavior);
        ArgumentOutOfRangeException.ThrowIfLessThan(current, 1);
        if (!double.IsFinite(total) || total < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(total), total, "total must be finite and not negative");
        }

        var target = scaling.Target.AverageValue;
        if (!double.IsFinite(target) || target <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(scaling), target, "target.averageValue must be finite and positive");
        }

        if (scaling.MinReplicas < 1 || scaling.MaxReplicas < scaling.MinReplicas)
        {
            throw new ArgumentOutOfRangeException(nameof(scaling), $"minReplicas {scaling.MinReplicas} must be at least 1 and at most maxReplicas {scaling.MaxReplicas}");
        }

        var ratio = total / current / target;
        var recommended = Math.Abs(1 - ratio) <= Tolerance ? current : (int)Math.Min(Math.Ceiling(total / target), int.MaxValue);
        var stabilized = Stabilize(component, current, recommended, behavior);
        var (desired, limit) = Limit(current, stabilized, scaling.MinReplicas, scaling.MaxReplicas, behavior);
        return new ReplicaDecision(desired, recommended, limit);
    }

    // The HPA's stabilizeRecommendationWithBehaviors: the recommendation of the up-window that is lowest, or of the
    // down-window that is highest, bounds the move away from the current count.
    private int Stabilize(string component, int current, int recommended, ScalingBehavior behavior)
    {
        var now = time.GetUtcNow();
        var upCutoff = now - TimeSpan.FromSeconds(behavior.ScaleUp.StabilizationWindowSeconds);
        var downCutoff = now - TimeSpan.FromSeconds(behavior.ScaleDown.StabilizationWindowSeconds);
        var oldest = upCutoff < downCutoff ? upCutoff : downCutoff;
        if (!history.TryGetValue(component, out var recommendations))
        {
            history[component] = recommendations = [];
        }

        recommendations.RemoveAll(r => r.At <= oldest);
        var (up, down) = (recommended, recommended);
        foreach (var r in recommendations)
        {
            if (r.At > upCutoff)
            {
                up = Math.Min(up, r.Replicas);
            }

            if (r.At > downCutoff)
            {
                down = Math.Max(down, r.Replicas);
            }
        }

        recommendations.Add(new Recommendation(now, recommended));
        return Math.Min(Math.Max(current, up), down);
    }

    // The HPA's convertDesiredReplicasWithBehaviorRate, with one policy per direction: maxChangePercent of the current
    // count, at least one replica; then the bounds.
    private static (int Desired, ScalingLimit Limit) Limit(int current, int desired, int min, int max, ScalingBehavior behavior)
    {
        if (desired > current)
        {
            var rate = Math.Max(current + 1L, (long)Math.Ceiling(current * (1 + behavior.ScaleUp.MaxChangePercent / 100.0)));
            var (allowed, limit) = max > rate ? ((int)rate, ScalingLimit.ScaleUpLimit) : (max, ScalingLimit.TooManyReplicas);
            return desired > allowed ? (allowed, limit) : (Math.Max(desired, min), desired < min ? ScalingLimit.TooFewReplicas : ScalingLimit.None);
        }

        if (desired < current)
        {
            var rate = Math.Max(0, Math.Min(current - 1, (int)Math.Floor(current * (1 - behavior.ScaleDown.MaxChangePercent / 100.0))));
            var (allowed, limit) = min < rate ? (rate, ScalingLimit.ScaleDownLimit) : (min, ScalingLimit.TooFewReplicas);
            return desired < allowed ? (allowed, limit) : (Math.Min(desired, max), desired > max ? ScalingLimit.TooManyReplicas : ScalingLimit.None);
        }

        return desired < min ? (min, ScalingLimit.TooFewReplicas) : desired > max ? (max, ScalingLimit.TooManyReplicas) : (desired, ScalingLimit.None);
    }

    private readonly record struct Recommendation(DateTimeOffset At, int Replicas);
}

/// <summary>One component's decision.</summary>
/// <param name="Desired">The replicas to have: stabilized, rate-limited and within the bounds.</param>
/// <param name="Recommended">The replicas the load alone asks for, before stabilization, rate limits and bounds.</param>
/// <param name="Limit">What held <paramref name="Desired"/> back from the stabilized recommendation, if anything.</param>
public sealed record ReplicaDecision(int Desired, int Recommended, ScalingLimit Limit);

/// <summary>What held a decision back, named as the HorizontalPodAutoscaler's <c>ScalingLimited</c> reasons.</summary>
public enum ScalingLimit
{
    /// <summary>Nothing: the stabilized recommendation is within the bounds and the rate.</summary>
    None,

    /// <summary>The recommendation is below <c>minReplicas</c>.</summary>
    TooFewReplicas,

    /// <summary>The recommendation is above <c>maxReplicas</c>.</summary>
    TooManyReplicas,

    /// <summary>The scale-up <c>maxChangePercent</c> allows fewer replicas than recommended in this step.</summary>
    ScaleUpLimit,

    /// <summary>The scale-down <c>maxChangePercent</c> allows no fewer replicas in this step.</summary>
    ScaleDownLimit,
}
