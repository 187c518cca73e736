namespace DeepSeekOperator.Serving.Tests.Hosting;

/// <summary>
/// Tests that start hosts whose tracer providers hold HttpClient instrumentation: it listens to every HttpClient of
/// the process, and puts its own client span's traceparent on other tests' calls. They run alone, after the rest.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingHosts
{
    public const string Name = "Hosts with process-wide tracing";
}
