using System.Net;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Serving.Hosting;

/// <summary>What a router process serves and where (<c>dsop router</c>).</summary>
public sealed record RouterHostOptions
{
    /// <summary>The port of the OpenAI-compatible API when none is given.</summary>
    public const int DefaultPort = 8000;

    /// <summary>The model and its placement; the router loads every weight but the routed experts.</summary>
    public required ServedModelOptions Model { get; init; }

    /// <summary>How the expert shards' replicas are found.</summary>
    public required ShardDiscoveryOptions Discovery { get; init; }

    /// <summary>The address the API is bound on, e.g. <c>0.0.0.0</c> or <c>127.0.0.1</c>.</summary>
    public string BindAddress { get; init; } = "0.0.0.0";

    /// <summary>The port of the OpenAI-compatible API, <c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c> and <c>/v1/expert-load</c>; 0 picks a free one.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The element type hidden states cross the wire in: float32 (exact) or bfloat16 (half the bytes).</summary>
    public TensorDtype WireDtype { get; init; } = TensorDtype.Float32;

    /// <summary>How long one MoE layer step may wait for the shards, retries included.</summary>
    public TimeSpan StepDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The continuous-batching limits.</summary>
    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>
    /// The bearer key every request to the OpenAI API must carry; none when null. <c>/healthz</c>, <c>/readyz</c>,
    /// <c>/metrics</c> and <c>/v1/expert-load</c> stay open: probes, Prometheus and the placement planner carry no key.
    /// </summary>
    public string? ApiKey { get; init; }

    /// <summary>The recent window of <c>/v1/expert-load</c>, beside the counts since start; at least a millisecond.</summary>
    public TimeSpan ExpertLoadWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">The message names the option.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Model, nameof(Model));
        ArgumentNullException.ThrowIfNull(Discovery, nameof(Discovery));
        Model.Validate();
        Discovery.Validate();
        Scheduler.Validate();
        if (!IPAddress.TryParse(BindAddress, out _))
        {
            throw new ArgumentException($"BindAddress \"{BindAddress}\" is not an IP address", nameof(BindAddress));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"Port must be between 0 and 65535, got {Port}", nameof(Port));
        }

        if (WireDtype is not (TensorDtype.Float32 or TensorDtype.Bfloat16))
        {
            throw new ArgumentException($"WireDtype {(int)WireDtype} is not one of Float32, Bfloat16", nameof(WireDtype));
        }

        if (StepDeadline <= TimeSpan.Zero)
        {
            throw new ArgumentException($"StepDeadline must be positive, got {StepDeadline}", nameof(StepDeadline));
        }

        if (ApiKey is not null && string.IsNullOrWhiteSpace(ApiKey))
        {
            throw new ArgumentException("ApiKey must not be empty", nameof(ApiKey));
        }

        if (ExpertLoadWindow < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentException($"ExpertLoadWindow must be at least 1 ms, got {ExpertLoadWindow}", nameof(ExpertLoadWindow));
        }
    }
}
