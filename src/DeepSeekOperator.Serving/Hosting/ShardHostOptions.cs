using System.Globalization;
using System.Net;
using DeepSeekOperator.Moe;
using static TorchSharp.torch;

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

    /// <summary>A model directory (Hugging Face layout) to read the shard's experts from; or set <see cref="Synthetic"/>.</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>A synthetic model whose experts are generated from <see cref="Seed"/> and <see cref="Skew"/>; or set <see cref="ModelDirectory"/>.</summary>
    public SyntheticPreset? Synthetic { get; init; }

    /// <summary>The synthetic model's seed.</summary>
    public int Seed { get; init; }

    /// <summary>The synthetic model's skew (0 = none), at least 0.</summary>
    public double Skew { get; init; }

    /// <summary>The model id of a generated placement; by default the model directory's name, or <c>synthetic-tiny</c> / <c>synthetic-small</c>.</summary>
    public string? ModelId { get; init; }

    /// <summary>The placement file, watched for new revisions; or set <see cref="Shards"/> to generate one.</summary>
    public string? PlacementPath { get; init; }

    /// <summary>How long the placement file's directory must be quiet after a change before the file is read again.</summary>
    public TimeSpan PlacementDebounce { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Generates placement revision 1, Contiguous over this many shards; or set <see cref="PlacementPath"/>.</summary>
    public int? Shards { get; init; }

    /// <summary>The generated placement's slots per shard; by default the fewest that hold every expert once.</summary>
    public int? SlotsPerShard { get; init; }

    /// <summary>The address both ports are bound on, e.g. <c>0.0.0.0</c> (every IPv4 interface) or <c>127.0.0.1</c>.</summary>
    public string BindAddress { get; init; } = "0.0.0.0";

    /// <summary>The gRPC port (HTTP/2 cleartext); 0 picks a free one.</summary>
    public int GrpcPort { get; init; } = DefaultGrpcPort;

    /// <summary>The port of <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> (HTTP/1.1); 0 picks a free one.</summary>
    public int MetricsPort { get; init; } = DefaultMetricsPort;

    /// <summary>The element type the experts are kept and computed in: Float32 or BFloat16.</summary>
    public ScalarType Dtype { get; init; } = ScalarType.Float32;

    /// <summary>The device the experts live on: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The largest gRPC message received or sent; a 512-token step of DeepSeek-V3 (hidden 7168, float32) is 14 MiB.</summary>
    public int MaxMessageBytes { get; init; } = 64 << 20;

    /// <summary>The model id a generated placement gets: <see cref="ModelId"/>, or one named after the model.</summary>
    public string EffectiveModelId => ModelId
        ?? (ModelDirectory is { } directory
            ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))
            : $"synthetic-{Synthetic.ToString()!.ToLowerInvariant()}");

    /// <summary>Throws when an option is out of range or options contradict each other.</summary>
    /// <exception cref="ArgumentException">The message names the option.</exception>
    public void Validate()
    {
        if (ShardIndex < 0)
        {
            throw new ArgumentException($"ShardIndex must not be negative, got {ShardIndex}", nameof(ShardIndex));
        }

        if ((ModelDirectory is null) == (Synthetic is null))
        {
            throw new ArgumentException("exactly one of ModelDirectory and Synthetic must be set", nameof(ModelDirectory));
        }

        if (ModelDirectory is not null && string.IsNullOrWhiteSpace(ModelDirectory))
        {
            throw new ArgumentException("ModelDirectory must not be empty", nameof(ModelDirectory));
        }

        if (Synthetic is { } preset && !Enum.IsDefined(preset))
        {
            throw new ArgumentException($"Synthetic {(int)preset} is not a synthetic preset", nameof(Synthetic));
        }

        if (!(Skew >= 0) || double.IsInfinity(Skew))
        {
            throw new ArgumentException($"Skew must be a number of at least 0, got {Skew.ToString(CultureInfo.InvariantCulture)}", nameof(Skew));
        }

        if (ModelId is not null && string.IsNullOrWhiteSpace(ModelId))
        {
            throw new ArgumentException("ModelId must not be empty", nameof(ModelId));
        }

        ValidatePlacement();
        ValidateEndpoints();
        if (Dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            throw new ArgumentException($"Dtype {Dtype} is not one of Float32, BFloat16", nameof(Dtype));
        }

        if (string.IsNullOrWhiteSpace(Device))
        {
            throw new ArgumentException("Device must not be empty", nameof(Device));
        }

        if (MaxMessageBytes < 1 << 20)
        {
            throw new ArgumentException($"MaxMessageBytes must be at least 1 MiB, got {MaxMessageBytes}", nameof(MaxMessageBytes));
        }
    }

    private void ValidatePlacement()
    {
        if ((PlacementPath is null) == (Shards is null))
        {
            throw new ArgumentException("exactly one of PlacementPath and Shards must be set", nameof(PlacementPath));
        }

        if (PlacementPath is not null && string.IsNullOrWhiteSpace(PlacementPath))
        {
            throw new ArgumentException("PlacementPath must not be empty", nameof(PlacementPath));
        }

        if (PlacementDebounce < TimeSpan.Zero)
        {
            throw new ArgumentException($"PlacementDebounce must not be negative, got {PlacementDebounce}", nameof(PlacementDebounce));
        }

        if (Shards is { } shards)
        {
            if (shards < 1)
            {
                throw new ArgumentException($"Shards must be at least 1, got {shards}", nameof(Shards));
            }

            if (ShardIndex >= shards)
            {
                throw new ArgumentException($"ShardIndex {ShardIndex} is not below Shards {shards}", nameof(ShardIndex));
            }
        }

        if (SlotsPerShard is { } slots)
        {
            if (Shards is null)
            {
                throw new ArgumentException("SlotsPerShard applies only to a generated placement (Shards)", nameof(SlotsPerShard));
            }

            if (slots < 1)
            {
                throw new ArgumentException($"SlotsPerShard must be at least 1, got {slots}", nameof(SlotsPerShard));
            }
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
