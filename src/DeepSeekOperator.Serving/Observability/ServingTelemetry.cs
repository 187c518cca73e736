using System.Diagnostics;

namespace DeepSeekOperator.Serving.Observability;

/// <summary>
/// The source of the serving spans: a request's scheduler steps on the router, each step's calls to the shards,
/// and the shards' Forward work. W3C trace context crosses gRPC in the call's metadata (<c>traceparent</c>).
/// </summary>
public static class ServingTelemetry
{
    /// <summary>The name of <see cref="Source"/>, to register with a tracer provider.</summary>
    public const string SourceName = "DeepSeekOperator.Serving";

    /// <summary>Where the serving spans are started.</summary>
    public static ActivitySource Source { get; } = new(SourceName);
}
