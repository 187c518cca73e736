using DeepSeekOperator.Controller.Children;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>What the rebalancer watches and how long it waits on routers and shards.</summary>
public sealed record RebalancerOptions
{
    /// <summary>The operator's settings: they name the pod that read a checkpoint's config.json.</summary>
    public required OperatorSettings Settings { get; init; }

    /// <summary>The namespace whose models are rebalanced; null rebalances every namespace.</summary>
    public string? Namespace { get; init; }

    /// <summary>How many models are looked at at once.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>How long one router may take to answer <c>/v1/expert-load</c> or <c>/v1/placement</c>.</summary>
    public TimeSpan RouterTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the routers are asked, during a rollout, whether the shard last given the new revision serves it.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one shard may take to serve a new revision before a Warning and a retry at the next rebalance interval.</summary>
    public TimeSpan ShardTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The clock of intervals, timeouts and status timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The message names the option.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(Workers, 1, nameof(Workers));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RouterTimeout, TimeSpan.Zero, nameof(RouterTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PollInterval, TimeSpan.Zero, nameof(PollInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ShardTimeout, TimeSpan.Zero, nameof(ShardTimeout));
        ArgumentNullException.ThrowIfNull(Time);
    }
}
