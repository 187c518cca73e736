using System.Net;

namespace DeepSeekOperator.Serving.Hosting;

/// <summary>
/// What an expert shard process serves and where: its experts (from a model directory, or a synthetic model),
/// its placement (a watched file, or generated for hand-started use) and its two ports.
/// </summary>
public sealed record ShardHostOptions
{
    /// <summary>The gRPC port when none is given.</summary>
    public const int DefaultGrpcPort = 9000;

    /// <summary>The metrics and probes port when none is given.</summary>
    public const int DefaultMetricsPort = 9100;

    /// <summary>The shard's index in the placement.</summary>
    public required int ShardIndex { get; init; }

    /// <summary>The model, its placement, dtype and device.</summary>
    public required ServedModelOptions Model { get; init; }

    /// <summary>The address both ports are bound on, e.g. <c>0.0.0.0</c> (every IPv4 interface) or <c>127.0.0.1</c>.</summary>
    public string BindAddress { get; init; } = "0.0.0.0";

    /// <summary>The gRPC port (HTTP/2 cleartext); 0 picks a free one.</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary>The port of <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> (HTTP/1.1); 0 picks a free one.</summary>
    public int MetricsPort { get; init; } = DefaultMetricsPort;

    /// <summary>The largest gRPC message received or sent; a 512-token step of DeepSeek-V3 (hidden 7168, float32) is 14 MiB.</summary>
    public int MaxMessageBytes { get; init; } = 64 << 20;

    /// <summary>Throws when an option is out of range or options contradict each other.</summary>
    /// <exception cref="ArgumentException">The message names the option.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Model, nameof(Model));
        if (ShardIndex < 0)
        {
            throw new ArgumentException($"ShardIndex must not be negative, got {ShardIndex}", nameof(ShardIndex));
        }

        Model.Validate();
        if (Model.Shards is { } shards && ShardIndex >= shards)
        {
            throw new ArgumentException($"ShardIndex {ShardIndex} is not below Shards {shards}", nameof(ShardIndex));
        }

        ValidateEndpoints();
        if (MaxMessageBytes < 1 << 20)
        {
            throw new ArgumentException($"MaxMessageBytes must be at least 1 MiB, got {MaxMessageBytes}", nameof(MaxMessageBytes));
        }
    }

    private void ValidateEndpoints()
    {
        if (!IPAddress.TryParse(BindAddress, out _))
        {
            throw new ArgumentException($"BindAddress \"{BindAddress}\" is not an IP address", nameof(BindAddress));
        }

        if (GrpcPort is < 0 or > 65535)
        {
            throw new ArgumentException($"GrpcPort must be between 0 and 65535, got {GrpcPort}", nameof(GrpcPort));
        }

        if (MetricsPort is < 0 or > 65535)
        {
            throw new ArgumentException($"MetricsPort must be between 0 and 65535, got {MetricsPort}", nameof(MetricsPort));
        }

        if (GrpcPort != 0 && GrpcPort == MetricsPort)
        {
            throw new ArgumentException($"GrpcPort and MetricsPort must differ, both are {GrpcPort}", nameof(MetricsPort));
        }
    }
}
