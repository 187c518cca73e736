using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling;
using DeepSeekOperator.Serving.Tests.Discovery;

namespace DeepSeekOperator.Controller.Tests.Autoscaling;

/// <summary>The HPA's decision for an AverageValue target, as a table of observations with a manual clock.</summary>
public sealed class ReplicaCalculatorTests
{
    private static readonly ScalingBehavior Immediate = new()
    {
        ScaleUp = new() { StabilizationWindowSeconds = 0, MaxChangePercent = 1000 },
        ScaleDown = new() { StabilizationWindowSeconds = 0, MaxChangePercent = 100 },
    };

    public static TheoryData<Row> Cases() =>
    [
        new("within the 10% tolerance: the count holds", Immediate, 1, 20, [new(0, 4, 4 * 32 * 1.09)], 4, ScalingLimit.None),
        new("just beyond the tolerance: ceil(total / target)", Immediate, 1, 20, [new(0, 4, 4 * 32 * 1.11)], 5, ScalingLimit.None),
        new("half the target: half the replicas", Immediate, 1, 20, [new(0, 4, 64)], 2, ScalingLimit.None),
        new("above max: held at max", Immediate, 1, 8, [new(0, 4, 1000)], 8, ScalingLimit.TooManyReplicas),
        new("zero load: never below min", Immediate, 2, 8, [new(0, 3, 0)], 2, ScalingLimit.TooFewReplicas),
        new("zero load at min: held, TooFewReplicas", Immediate, 1, 8, [new(0, 1, 0)], 1, ScalingLimit.TooFewReplicas),
        new("current below a raised min: up to min", Immediate, 3, 8, [new(0, 1, 32)], 3, ScalingLimit.TooFewReplicas),
        new("scale up by at most 100% per step", Rates(up: 100, down: 100), 1, 20, [new(0, 2, 1000)], 4, ScalingLimit.ScaleUpLimit),
        new("scale up at least one replica per step", Rates(up: 10, down: 100), 1, 20, [new(0, 1, 1000)], 2, ScalingLimit.ScaleUpLimit),
        new("scale down by at most 50% per step", Rates(up: 100, down: 50), 1, 20, [new(0, 8, 0)], 4, ScalingLimit.ScaleDownLimit),
        new("scale down at least one replica per step", Rates(up: 100, down: 1), 1, 20, [new(0, 8, 0)], 7, ScalingLimit.ScaleDownLimit),
        new(
            "scale down: the highest recommendation of the window holds",
            Windows(up: 0, down: 300), 1, 20, [new(0, 4, 4 * 32), new(60, 4, 32), new(299, 4, 32)], 4, ScalingLimit.None),
        new(
            "scale down: once the high recommendation leaves the window",
            Windows(up: 0, down: 300), 1, 20, [new(0, 4, 4 * 32), new(60, 4, 32), new(301, 4, 32)], 1, ScalingLimit.None),
        new(
            "scale up: the lowest recommendation of the window holds",
            Windows(up: 60, down: 0), 1, 20, [new(0, 2, 64), new(15, 2, 320), new(59, 2, 320)], 2, ScalingLimit.None),
        new(
            "scale up: once the low recommendation leaves the window",
            Windows(up: 60, down: 0), 1, 20, [new(0, 2, 64), new(15, 2, 320), new(61, 2, 320)], 10, ScalingLimit.None),
        new(
            "a stabilized scale up is still rate-limited",
            Windows(up: 60, down: 0) with { ScaleUp = new() { StabilizationWindowSeconds = 60, MaxChangePercent = 100 } }, 1, 20,
            [new(0, 2, 64), new(15, 2, 320), new(61, 2, 320)], 4, ScalingLimit.ScaleUpLimit),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decide_AsTheHorizontalPodAutoscaler(Row c)
    {
        var time = new ManualTime();
        var calculator = new ReplicaCalculator(time);
        var start = time.GetUtcNow();
        var scaling = new ComponentAutoscaling<RouterMetric> { MinReplicas = c.Min, MaxReplicas = c.Max, Target = new() { AverageValue = 32 } };
        ReplicaDecision? decision = null;
        foreach (var step in c.Steps)
        {
            time.Advance(start + TimeSpan.FromSeconds(step.AtSeconds) - time.GetUtcNow());
            decision = calculator.Decide("router", step.Current, step.Total, scaling, c.Behavior);
        }

        Assert.Equal((c.Desired, c.Limit), (decision!.Desired, decision.Limit));
    }

    [Fact]
    public void Shards_KeepTheirOwnHistories()
    {
        var calculator = new ReplicaCalculator(new ManualTime());
        var scaling = new ComponentAutoscaling<ShardMetric> { MinReplicas = 1, MaxReplicas = 8, Target = new() { AverageValue = 100 } };
        var behavior = Windows(up: 0, down: 300);

        var busy = calculator.Decide("shard-0", 4, 400, scaling, behavior);
        var idle = calculator.Decide("shard-1", 4, 100, scaling, behavior);

        Assert.Equal(4, busy.Desired);
        Assert.Equal((1, 1), (idle.Recommended, idle.Desired));
    }

    [Fact]
    public void Decide_NegativeTotal_IsRefusedNamingIt()
    {
        var calculator = new ReplicaCalculator(new ManualTime());

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => calculator.Decide("router", 1, -1, new ComponentAutoscaling<RouterMetric>(), Immediate));

        Assert.Equal("total", error.ParamName);
    }

    private static ScalingBehavior Rates(int up, int down) => new()
    {
        ScaleUp = new() { StabilizationWindowSeconds = 0, MaxChangePercent = up },
        ScaleDown = new() { StabilizationWindowSeconds = 0, MaxChangePercent = down },
    };

    private static ScalingBehavior Windows(int up, int down) => new()
    {
        ScaleUp = new() { StabilizationWindowSeconds = up, MaxChangePercent = 1000 },
        ScaleDown = new() { StabilizationWindowSeconds = down, MaxChangePercent = 100 },
    };

    /// <summary>One row: observations in order, and the last decision expected.</summary>
    public sealed record Row(string Name, ScalingBehavior Behavior, int Min, int Max, IReadOnlyList<Observation> Steps, int Desired, ScalingLimit Limit)
    {
        public override string ToString() => Name;
    }

    /// <summary>An observation <paramref name="AtSeconds"/> after the first.</summary>
    public sealed record Observation(int AtSeconds, int Current, double Total);
}
