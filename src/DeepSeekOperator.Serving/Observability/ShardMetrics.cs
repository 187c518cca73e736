using Prometheus;

namespace DeepSeekOperator.Serving.Observability;

/// <summary>
/// An expert shard's Prometheus metrics (DESIGN.md §7), in a registry of their own so that several shards in one
/// process (tests) do not share counts. The shard serves the registry at <c>/metrics</c> on its second port.
/// </summary>
public sealed class ShardMetrics
{
    /// <summary>Creates the metrics in <paramref name="registry"/>.</summary>
    public ShardMetrics(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Registry = registry;
        var factory = Metrics.WithCustomRegistry(registry);
        Tokens = factory.CreateCounter("dsop_shard_tokens_total", "Tokens received in Forward calls (each token once per call, however many of its experts are here).");
        Forward = factory.CreateHistogram("dsop_shard_forward_seconds", "Time to answer one Forward call (one MoE layer step of one router).", new HistogramConfiguration
        {
            Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16),
        });
        ExpertTokens = factory.CreateCounter("dsop_shard_expert_tokens_total", "Tokens routed to each expert, summed over MoE layers.", "expert");
        Refused = factory.CreateCounter("dsop_shard_refused_total", "Forward calls refused, by gRPC status code.", "code");
        PlacementRevision = factory.CreateGauge("dsop_shard_placement_revision", "The newest placement revision the shard serves.");
    }

    /// <summary>The registry the metrics live in.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary><c>dsop_shard_tokens_total</c>.</summary>
    public Counter Tokens { get; }

    /// <summary><c>dsop_shard_forward_seconds</c>.</summary>
    public Histogram Forward { get; }

    /// <summary><c>dsop_shard_expert_tokens_total{expert}</c>.</summary>
    public Counter ExpertTokens { get; }

    /// <summary><c>dsop_shard_refused_total{code}</c>: the gRPC status code's name, e.g. <c>InvalidArgument</c>.</summary>
    public Counter Refused { get; }

    /// <summary><c>dsop_shard_placement_revision</c>.</summary>
    public Gauge PlacementRevision { get; }
}
