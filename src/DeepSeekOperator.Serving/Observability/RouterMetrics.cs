using Prometheus;

namespace DeepSeekOperator.Serving.Observability;

/// <summary>
/// The router's Prometheus metrics (DESIGN.md §7), in a registry of their own so that several routers in one
/// process (tests) do not share counts. The router serves the registry at <c>/metrics</c>.
/// </summary>
public sealed class RouterMetrics
{
    /// <summary>Creates the metrics in <paramref name="registry"/>.</summary>
    public RouterMetrics(CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Registry = registry;
        var factory = Metrics.WithCustomRegistry(registry);
        Requests = factory.CreateCounter("dsop_router_requests_total", "Requests answered by the OpenAI-compatible API, by HTTP status code.", "status");
        InflightRequests = factory.CreateGauge("dsop_router_inflight_requests", "Requests admitted to the running batch and not yet finished.");
        QueueDepth = factory.CreateGauge("dsop_router_queue_depth", "Requests waiting to join the running batch.");
        Tokens = factory.CreateCounter("dsop_router_tokens_total", "Tokens processed, by kind: prompt (prefilled) or generated.", "kind");
        TimeToFirstToken = factory.CreateHistogram("dsop_router_time_to_first_token_seconds", "Time from a request's arrival to its first generated token.", new HistogramConfiguration
        {
            Buckets = Histogram.ExponentialBuckets(0.005, 2, 14),
        });
        InterTokenLatency = factory.CreateHistogram("dsop_router_inter_token_latency_seconds", "Time between consecutive generated tokens of a request.", new HistogramConfiguration
        {
            Buckets = Histogram.ExponentialBuckets(0.001, 2, 14),
        });
        Dispatch = factory.CreateHistogram("dsop_router_dispatch_seconds", "Time of one call to an expert shard for one MoE layer step, retries included, by shard.", new HistogramConfiguration
        {
            LabelNames = ["shard"],
            Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16),
        });
        DispatchFailures = factory.CreateCounter("dsop_router_dispatch_failures_total", "Calls to an expert shard replica that failed, by shard; a failed call is retried once on another replica.", "shard");
        StepTokens = factory.CreateHistogram("dsop_router_step_tokens", "Tokens in one scheduler step (prefill and decode together).", new HistogramConfiguration
        {
            Buckets = Histogram.ExponentialBuckets(1, 2, 14),
        });
        PlacementRevision = factory.CreateGauge("dsop_router_placement_revision", "The placement revision the router dispatches with.");
        ShardReplicas = factory.CreateGauge("dsop_router_shard_replicas", "Replicas of each expert shard the router knows, by shard and state: reachable (the last call or probe succeeded) or unreachable.", "shard", "state");
    }

    /// <summary>The registry the metrics live in.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary><c>dsop_router_requests_total{status}</c>: the HTTP status code as a number, e.g. <c>200</c>, <c>429</c>.</summary>
    public Counter Requests { get; }

    /// <summary><c>dsop_router_inflight_requests</c>.</summary>
    public Gauge InflightRequests { get; }

    /// <summary><c>dsop_router_queue_depth</c>.</summary>
    public Gauge QueueDepth { get; }

    /// <summary><c>dsop_router_tokens_total{kind}</c>: kind is <c>prompt</c> or <c>generated</c>.</summary>
    public Counter Tokens { get; }

    /// <summary><c>dsop_router_time_to_first_token_seconds</c>.</summary>
    public Histogram TimeToFirstToken { get; }

    /// <summary><c>dsop_router_inter_token_latency_seconds</c>.</summary>
    public Histogram InterTokenLatency { get; }

    /// <summary><c>dsop_router_dispatch_seconds{shard}</c>.</summary>
    public Histogram Dispatch { get; }

    /// <summary><c>dsop_router_dispatch_failures_total{shard}</c>.</summary>
    public Counter DispatchFailures { get; }

    /// <summary><c>dsop_router_step_tokens</c>.</summary>
    public Histogram StepTokens { get; }

    /// <summary><c>dsop_router_placement_revision</c>.</summary>
    public Gauge PlacementRevision { get; }

    /// <summary><c>dsop_router_shard_replicas{shard,state}</c>: state is <c>reachable</c> or <c>unreachable</c>; set when scraped.</summary>
    public Gauge ShardReplicas { get; }
}
