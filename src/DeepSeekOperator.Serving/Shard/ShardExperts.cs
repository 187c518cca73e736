using DeepSeekOperator.Moe;
using DeepSeekOperator.Moe.Safetensors;
using DeepSeekOperator.Serving.Placement;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Shard;

/// <summary>
/// Builds the executor of one shard: the routed experts its placement gives it, in every MoE layer, and nothing
/// else, read from a model directory or generated as a synthetic model's.
/// </summary>
public static class ShardExperts
{
    /// <summary>Reads the experts <paramref name="shard"/> holds from the model directory <paramref name="directory"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard of the placement.</exception>
    /// <exception cref="ModelConfigException"><c>config.json</c> is missing or wrong.</exception>
    /// <exception cref="CheckpointException">A weight file is malformed, or an expert's tensor is missing or has the wrong shape.</exception>
    public static LocalExpertExecutor Load(string directory, ExpertLocator locator, int shard, ScalarType dtype, Device device, IProgress<LoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(locator);
        CheckShard(locator, shard);
        return ModelLoader.LoadExperts(directory, (layer, expert) => locator.Holds(shard, layer, expert), dtype, device, progress, cancellationToken);
    }

    /// <summary>
    /// Generates the experts <paramref name="shard"/> holds with the weights <see cref="SyntheticModel"/> gives a
    /// model of <paramref name="config"/> and <paramref name="seed"/>: the same values as the written model's.
    /// </summary>
    /// <param name="config">The synthetic model's architecture.</param>
    /// <param name="seed">The synthetic model's seed.</param>
    /// <param name="locator">The placement.</param>
    /// <param name="shard">The shard whose experts to generate.</param>
    /// <param name="skew">The synthetic model's gate skew (it shapes the expert weights too).</param>
    /// <param name="dtype">The element type the experts are kept and computed in.</param>
    /// <param name="device">Where the experts live; the CPU when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="shard"/> is not a shard of the placement.</exception>
    public static LocalExpertExecutor Synthetic(ModelConfig config, int seed, ExpertLocator locator, int shard, double skew = 0, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(locator);
        CheckShard(locator, shard);
        var specs = ModelTensors.Expected(config)
            .Where(spec => spec is { Kind: TensorKind.RoutedExpert, Layer: { } layer, Expert: { } expert } && locator.Holds(shard, layer, expert))
            .ToDictionary(spec => spec.Name);
        ExpertWeights Expert(int layer, int expert)
        {
            Tensor Projection(string name)
            {
                var weights = SyntheticModel.Tensor(specs[ModelTensors.ExpertTensor(layer, expert, name)], seed, skew, dtype);
                if (device is null || device.type == DeviceType.CPU)
                {
                    return weights;
                }

                using (weights)
                {
                    return weights.to(device).DetachFromDisposeScope();
                }
            }
            return new ExpertWeights(Projection("gate_proj"), Projection("up_proj"), Projection("down_proj"));
        }

        var layers = config.MoeLayers.ToDictionary(
            layer => layer,
            layer => (IReadOnlyDictionary<int, ExpertWeights>)locator.ExpertsOn(shard, layer).ToDictionary(expert => expert, expert => Expert(layer, expert)));
        return new LocalExpertExecutor(config, layers);
    }

    private static void CheckShard(ExpertLocator locator, int shard)
    {
        if ((uint)shard >= (uint)locator.Placement.Shards)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"placement revision {locator.Placement.Revision} has {locator.Placement.Shards} shards");
        }
    }
}
