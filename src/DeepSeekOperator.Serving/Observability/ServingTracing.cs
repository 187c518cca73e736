using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DeepSeekOperator.Serving.Observability;

/// <summary>
/// The OpenTelemetry tracing of a serving process (router or shard, DESIGN.md §7): the serving spans, ASP.NET
/// Core's server spans (which continue a caller's W3C <c>traceparent</c>, gRPC calls included) and HttpClient's
/// client spans (which send it on), exported over OTLP as the standard <c>OTEL_*</c> variables say.
/// </summary>
public static class ServingTracing
{
    /// <summary>
    /// The source of Grpc.Net.Client's span of each call (<c>Grpc.Net.Client.GrpcOut</c>). The call starts it whether
    /// exported or not, between the caller's span and HttpClient's, whose traceparent the callee continues: left
    /// out, the shard's spans would hang under a span the trace does not hold.
    /// </summary>
    public const string GrpcClientSourceName = "Grpc.Net.Client";

    /// <summary>The variables that turn the OTLP exporter on: without one of them, spans are not exported.</summary>
    public static IReadOnlyList<string> OtlpEndpointVariables { get; } = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"];

    /// <summary>
    /// Adds tracing with <see cref="ServingTelemetry.SourceName"/>, ASP.NET Core and HttpClient instrumentation;
    /// the resource's service name is <c>OTEL_SERVICE_NAME</c> when set, else <paramref name="serviceName"/>.
    /// The OTLP exporter is added only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or
    /// <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> is set; it reads the other <c>OTEL_*</c> variables itself.
    /// </summary>
    /// <param name="services">The process's services.</param>
    /// <param name="serviceName">The service name when <c>OTEL_SERVICE_NAME</c> is not set, e.g. <c>dsop-shard</c>.</param>
    /// <param name="configure">Further configuration of the tracer provider, e.g. an in-memory exporter in tests.</param>
    public static IServiceCollection AddServingTelemetry(this IServiceCollection services, string serviceName, Action<TracerProviderBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        var name = Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is { Length: > 0 } fromEnvironment ? fromEnvironment : serviceName;
        var exportOtlp = OtlpEndpointVariables.Any(variable => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(variable)));
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(name))
            .WithTracing(tracing =>
            {
                tracing.AddSource(ServingTelemetry.SourceName, GrpcClientSourceName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                if (exportOtlp)
                {
                    tracing.AddOtlpExporter();
                }

                configure?.Invoke(tracing);
            });
        return services;
    }
}
