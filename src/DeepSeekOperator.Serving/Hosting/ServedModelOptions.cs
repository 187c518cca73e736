using System.Globalization;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Hosting;

/// <summary>
/// The model a router or an expert shard serves, and how its experts are placed: what both processes must agree
/// on. The weights come from a model directory or are generated (a synthetic model); the placement from a watched
/// file (a ConfigMap, in a cluster) or, for hand-started processes, is generated Contiguous.
/// </summary>
public sealed record ServedModelOptions
{
    /// <summary>A model directory (Hugging Face layout); or set <see cref="Synthetic"/>.</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>A synthetic model whose weights are generated from <see cref="Seed"/> and <see cref="Skew"/>; or set <see cref="ModelDirectory"/>.</summary>
    public SyntheticPreset? Synthetic { get; init; }

    /// <summary>The synthetic model's seed.</summary>
    public int Seed { get; init; }

    /// <summary>The synthetic model's skew (0 = none), at least 0.</summary>
    public double Skew { get; init; }

    /// <summary>The model's id (the OpenAI <c>model</c> and a generated placement's model id); by default the directory's name, or <c>synthetic-tiny</c> / <c>synthetic-small</c>.</summary>
    public string? ModelId { get; init; }

    /// <summary>The placement file, watched for new revisions; or set <see cref="Shards"/> to generate one.</summary>
    public string? PlacementPath { get; init; }

    /// <summary>How long the placement file's directory must be quiet after a change before the file is read again.</summary>
    public TimeSpan PlacementDebounce { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Generates placement revision 1, Contiguous over this many shards; or set <see cref="PlacementPath"/>.</summary>
    public int? Shards { get; init; }

    /// <summary>The generated placement's slots per shard; by default the fewest that hold every expert once.</summary>
    public int? SlotsPerShard { get; init; }

    /// <summary>The element type weights are kept and computed in: Float32 or BFloat16.</summary>
    public ScalarType Dtype { get; init; } = ScalarType.Float32;

    /// <summary>The device the weights live on: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>The model id: <see cref="ModelId"/>, or one named after the model.</summary>
    public string EffectiveModelId => ModelId
        ?? (ModelDirectory is { } directory
            ? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))
            : $"synthetic-{Synthetic.ToString()!.ToLowerInvariant()}");

    /// <summary>The model's architecture: the directory's <c>config.json</c>, or the synthetic preset's.</summary>
    /// <exception cref="ModelConfigException"><c>config.json</c> is missing or wrong.</exception>
    public ModelConfig LoadConfig() => ModelDirectory is { } directory ? ModelConfig.Load(directory) : SyntheticModel.Config(Synthetic!.Value);

    /// <summary>The placement to generate when no file is given: revision 1, Contiguous over <see cref="Shards"/>.</summary>
    /// <exception cref="InvalidOperationException">A placement file is configured instead.</exception>
    public ExpertPlacement GeneratePlacement(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var shards = Shards ?? throw new InvalidOperationException("the placement comes from a file, not generated");
        var slots = SlotsPerShard ?? PlacementGenerator.MinimumSlotsPerShard(config.NRoutedExperts, shards);
        return PlacementGenerator.Contiguous(config, EffectiveModelId, revision: 1, shards, slots);
    }

    /// <summary>Throws when an option is out of range or options contradict each other.</summary>
    /// <exception cref="ArgumentException">The message names the option.</exception>
    public void Validate()
    {
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

        if (Shards is < 1)
        {
            throw new ArgumentException($"Shards must be at least 1, got {Shards}", nameof(Shards));
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

        if (Dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            throw new ArgumentException($"Dtype {Dtype} is not one of Float32, BFloat16", nameof(Dtype));
        }

        if (string.IsNullOrWhiteSpace(Device))
        {
            throw new ArgumentException("Device must not be empty", nameof(Device));
        }
    }
}
