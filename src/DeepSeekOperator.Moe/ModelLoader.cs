using DeepSeekOperator.Moe.Safetensors;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe;

/// <summary>
/// Loads a Hugging Face model directory (<c>config.json</c> and safetensors weights) for one of the roles a
/// pod plays: the whole model, a router (everything but the routed experts), or an expert shard (only its
/// experts). Every tensor the role needs is checked for presence and shape against <c>config.json</c> before
/// any is read, and only those tensors are read from the memory-mapped files.
/// </summary>
public static class ModelLoader
{
    /// <summary>The whole model, routed experts run in this process.</summary>
    /// <exception cref="ModelConfigException"><c>config.json</c> is missing or wrong.</exception>
    /// <exception cref="CheckpointException">A weight file is malformed, or a tensor is missing or has the wrong shape.</exception>
    public static MoeModel Load(string directory, ScalarType dtype, Device device, IProgress<LoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var config = ModelConfig.Load(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var weights = Read(checkpoint, ModelTensors.Expected(config).ToList(), dtype, device, progress, cancellationToken);
        return MoeModel.FromWeights(config, weights, dtype, device);
    }

    /// <summary>A router: every weight but the routed experts, which <paramref name="experts"/> runs.</summary>
    /// <exception cref="ModelConfigException"><c>config.json</c> is missing or wrong.</exception>
    /// <exception cref="CheckpointException">A weight file is malformed, or a tensor is missing or has the wrong shape.</exception>
    public static MoeModel LoadRouter(string directory, IExpertExecutor experts, ScalarType dtype, Device device, IProgress<LoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experts);
        var config = ModelConfig.Load(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var specs = ModelTensors.Expected(config).Where(spec => spec.Kind != TensorKind.RoutedExpert).ToList();
        var weights = Read(checkpoint, specs, dtype, device, progress, cancellationToken);
        return new MoeModel(config, weights, experts, dtype, device);
    }

    /// <summary>An expert shard: the routed experts <paramref name="holds"/> (layer, expert) selects, of every MoE layer.</summary>
    /// <exception cref="ModelConfigException"><c>config.json</c> is missing or wrong.</exception>
    /// <exception cref="CheckpointException">A weight file is malformed, or an expert's tensor is missing or has the wrong shape.</exception>
    public static LocalExpertExecutor LoadExperts(string directory, Func<int, int, bool> holds, ScalarType dtype, Device device, IProgress<LoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(holds);
        var config = ModelConfig.Load(directory);
        using var checkpoint = SafetensorsCheckpoint.Open(directory);
        var specs = ModelTensors.Expected(config)
            .Where(spec => spec is { Kind: TensorKind.RoutedExpert, Layer: { } layer, Expert: { } expert } && holds(layer, expert))
            .ToList();
        var weights = Read(checkpoint, specs, dtype, device, progress, cancellationToken);
        return Experts(config, specs, weights);
    }

    /// <summary>Groups routed-expert tensors into an executor.</summary>
    internal static LocalExpertExecutor Experts(ModelConfig config, IEnumerable<TensorSpec> specs, IReadOnlyDictionary<string, Tensor> weights)
    {
        var layers = new Dictionary<int, IReadOnlyDictionary<int, ExpertWeights>>();
        foreach (var group in specs.Where(s => s.Kind == TensorKind.RoutedExpert).GroupBy(s => s.Layer!.Value))
        {
            layers[group.Key] = group.Select(s => s.Expert!.Value).Distinct().ToDictionary(
                expert => expert,
                expert => new ExpertWeights(
                    weights[ModelTensors.ExpertTensor(group.Key, expert, "gate_proj")],
                    weights[ModelTensors.ExpertTensor(group.Key, expert, "up_proj")],
                    weights[ModelTensors.ExpertTensor(group.Key, expert, "down_proj")]));
        }

        return new LocalExpertExecutor(config, layers);
    }

    /// <summary>
    /// Checks that every tensor of <paramref name="specs"/> is in the checkpoint with the shape config.json
    /// implies, then reads them: gate weights in float32, everything else in <paramref name="dtype"/>.
    /// </summary>
    private static Dictionary<string, Tensor> Read(SafetensorsCheckpoint checkpoint, List<TensorSpec> specs, ScalarType dtype, Device device, IProgress<LoadProgress>? progress, CancellationToken cancellationToken)
    {
        Check(checkpoint, specs);
        var gates = specs.Where(s => s.Kind == TensorKind.Gate).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var rest = specs.Where(s => s.Kind != TensorKind.Gate).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var totalBytes = specs.Sum(s => Bytes(checkpoint, s.Name));
        var loaded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            var offset = new LoadProgress(0, totalBytes, 0, specs.Count, null);
            foreach (var (names, type) in new[] { (gates, ScalarType.Float32), (rest, dtype) })
            {
                if (names.Count == 0)
                {
                    continue;
                }

                var start = offset;
                var relay = progress is null ? null : new Relay(p =>
                {
                    offset = new LoadProgress(start.BytesLoaded + p.BytesLoaded, totalBytes, start.TensorsLoaded + p.TensorsLoaded, specs.Count, p.Tensor);
                    progress.Report(offset);
                });
                foreach (var (name, tensor) in checkpoint.Load(names.Contains, type, device, relay, cancellationToken))
                {
                    loaded[name] = tensor;
                }

                offset = new LoadProgress(start.BytesLoaded + names.Sum(n => Bytes(checkpoint, n)), totalBytes, start.TensorsLoaded + names.Count, specs.Count, null);
            }

            return loaded;
        }
        catch
        {
            foreach (var tensor in loaded.Values)
            {
                tensor.Dispose();
            }

            throw;
        }
    }

    private static long Bytes(SafetensorsCheckpoint checkpoint, string name) =>
        checkpoint.Get(name).ByteLength + (checkpoint.Contains(name + "_scale_inv") ? checkpoint.Get(name + "_scale_inv").ByteLength : 0);

    /// <summary>Every tensor present, with the shape config.json implies; the first problem is reported.</summary>
    /// <exception cref="CheckpointException">A tensor is missing or has the wrong shape.</exception>
    public static void Check(SafetensorsCheckpoint checkpoint, IEnumerable<TensorSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(specs);
        foreach (var spec in specs)
        {
            if (!checkpoint.Contains(spec.Name))
            {
                var what = spec.Kind == TensorKind.RoutedExpert ? $"expert {spec.Expert} of layer {spec.Layer}" : "the architecture";
                throw new CheckpointException(checkpoint.Directory, spec.Name, $"is missing ({what} needs it, per {ModelConfig.FileName})");
            }

            var entry = checkpoint.Get(spec.Name);
            if (!entry.Shape.SequenceEqual(spec.Shape))
            {
                throw new CheckpointException(entry.File, spec.Name, $"has shape [{string.Join(", ", entry.Shape)}] but {ModelConfig.FileName} implies [{string.Join(", ", spec.Shape)}]");
            }
        }
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool and reorder reports).</summary>
    private sealed class Relay(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }
}
