using DeepSeekOperator.Moe.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe;

/// <summary>The weights of one routed expert.</summary>
/// <param name="Gate">gate_proj, <c>[I, H]</c>.</param>
/// <param name="Up">up_proj, <c>[I, H]</c>.</param>
/// <param name="Down">down_proj, <c>[H, I]</c>.</param>
public sealed record ExpertWeights(Tensor Gate, Tensor Up, Tensor Down)
{
    /// <summary>
    /// Normally distributed weights for the expert shape of <paramref name="config"/>, scaled (by about 1/√fan-in) so
    /// that an expert's output stays near the scale of its input, as benchmarks need.
    /// </summary>
    public static ExpertWeights Random(ModelConfig config)
    {
        using var hiddenScale = (1.0 / 45).ToScalar();
        using var intermediateScale = (1.0 / 37).ToScalar();
        return new ExpertWeights(
            randn(config.MoeIntermediateSize, config.HiddenSize).mul_(hiddenScale),
            randn(config.MoeIntermediateSize, config.HiddenSize).mul_(hiddenScale),
            randn(config.HiddenSize, config.MoeIntermediateSize).mul_(intermediateScale));
    }
}

/// <summary>
/// Runs routed experts in this process. Tokens are grouped by expert: one gather of the assigned rows,
/// one batched SwiGLU per expert over all of its tokens, and one weighted scatter-add back, so the work is
/// a handful of large matrix products rather than a loop over tokens.
/// </summary>
public sealed class LocalExpertExecutor : IExpertExecutor, IDisposable
{
    private readonly Dictionary<int, Dictionary<int, ExpertMlp>> _layers = [];
    private readonly ExpertWorkers? _workers;
    private readonly Lock _workersLock = new();

    /// <summary>Takes ownership of the experts' weights, by layer and expert id.</summary>
    /// <param name="config">The model's architecture.</param>
    /// <param name="experts">The weights, by layer and expert id.</param>
    /// <param name="threads">
    /// On the CPU, how many experts run side by side, each on one core (default: libtorch's intra-op thread
    /// count). 1 runs them one after another, each matrix product using every core.
    /// </param>
    /// <exception cref="ArgumentException">A layer is not an MoE layer, an expert id is out of range, or a weight has the wrong shape.</exception>
    public LocalExpertExecutor(ModelConfig config, IReadOnlyDictionary<int, IReadOnlyDictionary<int, ExpertWeights>> experts, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(experts);
        Config = config;
        long h = config.HiddenSize, i = config.MoeIntermediateSize;
        var onCpu = experts.Values.SelectMany(l => l.Values).All(w => w.Down.device_type == DeviceType.CPU);
        foreach (var (layer, layerExperts) in experts)
        {
            if (layer < 0 || layer >= config.NumHiddenLayers || !config.IsMoeLayer(layer))
            {
                throw new ArgumentException($"layer {layer} is not an MoE layer of this model", nameof(experts));
            }

            var fused = new Dictionary<int, ExpertMlp>();
            foreach (var (expert, weights) in layerExperts)
            {
                if (expert < 0 || expert >= config.NRoutedExperts)
                {
                    throw new ArgumentException($"layer {layer}: expert {expert} is outside 0..{config.NRoutedExperts - 1}", nameof(experts));
                }

                RequireShape(weights.Gate, [i, h], layer, expert, "gate_proj");
                RequireShape(weights.Up, [i, h], layer, expert, "up_proj");
                RequireShape(weights.Down, [h, i], layer, expert, "down_proj");
                fused[expert] = new ExpertMlp(weights.Gate, weights.Up, weights.Down);
            }

            _layers[layer] = fused;
        }

        _workers = onCpu ? ExpertWorkers.Create(threads ?? get_num_threads()) : null;
    }

    private static void RequireShape(Tensor tensor, long[] shape, int layer, int expert, string projection)
    {
        if (!tensor.shape.SequenceEqual(shape))
        {
            throw new ArgumentException($"layer {layer} expert {expert} {projection} has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", shape)}]");
        }
    }

    /// <summary>The model's architecture.</summary>
    public ModelConfig Config { get; }

    /// <summary>The layers this executor holds experts for.</summary>
    public IReadOnlyCollection<int> Layers => _layers.Keys;

    /// <summary>The experts held for a layer, ascending.</summary>
    public IReadOnlyList<int> ExpertsOf(int layer) =>
        _layers.TryGetValue(layer, out var experts) ? [.. experts.Keys.Order()] : [];

    /// <inheritdoc />
    public ValueTask<Tensor> ForwardAsync(int layer, Tensor hidden, ExpertAssignments assignments, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Forward(layer, hidden, assignments));
    }

    /// <summary>The synchronous form of <see cref="ForwardAsync"/>.</summary>
    /// <exception cref="ArgumentException">The hidden states do not match the assignments, or an expert is not held here.</exception>
    public Tensor Forward(int layer, Tensor hidden, ExpertAssignments assignments)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(assignments);
        if (hidden.dim() != 2 || hidden.shape[0] != assignments.TokenCount || hidden.shape[1] != Config.HiddenSize)
        {
            throw new ArgumentException($"hidden states are [{string.Join(", ", hidden.shape)}] but the assignments are for {assignments.TokenCount} tokens of width {Config.HiddenSize}", nameof(hidden));
        }

        if (!_layers.TryGetValue(layer, out var experts))
        {
            throw new ArgumentException($"no experts of layer {layer} are held here", nameof(layer));
        }

        foreach (var expert in assignments.Experts)
        {
            if (!experts.ContainsKey(expert))
            {
                throw new ArgumentException($"expert {expert} of layer {layer} is not held here", nameof(assignments));
            }
        }

        var (tokens, weights, order, starts) = assignments.GroupByExpert();

        using var scope = NewDisposeScope();
        var output = zeros([assignments.TokenCount, Config.HiddenSize], ScalarType.Float32, hidden.device);
        if (tokens.Length > 0)
        {
            var index = tensor(tokens, ScalarType.Int64, hidden.device);
            var gathered = hidden.index_select(0, index);
            var results = new Tensor[order.Length];
            Tensor Run(int k)
            {
                using var rows = gathered.narrow(0, starts[k], starts[k + 1] - starts[k]);
                return experts[order[k]].Forward(rows);
            }

            Tensor weighted;
            try
            {
                if (_workers is null || order.Length < 2)
                {
                    for (var k = 0; k < order.Length; k++)
                    {
                        results[k] = Run(k);
                    }
                }
                else
                {
                    RunOnWorkers(order.Length, starts, k => results[k] = Run(k).DetachFromDisposeScope());
                }

                var scale = tensor(weights, ScalarType.Float32, hidden.device).unsqueeze(1);
                weighted = cat(results, 0).to(ScalarType.Float32).mul_(scale);
            }
            finally
            {
                foreach (var result in results)
                {
                    result?.Dispose();
                }
            }

            output.index_add_(0, index, weighted, Scalars.One);
        }

        return output.to(hidden.dtype).DetachFromDisposeScope();
    }

    /// <summary>
    /// Splits the experts between the workers, balancing their token counts (largest first, each to the least
    /// loaded worker), and runs them. One forward at a time uses the workers; others wait.
    /// </summary>
    private void RunOnWorkers(int expertCount, int[] starts, Action<int> run)
    {
        var parts = Enumerable.Range(0, Math.Min(_workers!.Count, expertCount)).Select(_ => new List<int>()).ToArray();
        var load = new long[parts.Length];
        foreach (var k in Enumerable.Range(0, expertCount).OrderByDescending(k => starts[k + 1] - starts[k]))
        {
            var least = Array.IndexOf(load, load.Min());
            parts[least].Add(k);
            load[least] += starts[k + 1] - starts[k];
        }

        lock (_workersLock)
        {
            _workers.Run([.. parts.Select(part => (Action)(() =>
            {
                foreach (var k in part)
                {
                    run(k);
                }
            }))]);
        }
    }

    /// <summary>Frees the experts' weights and stops the workers.</summary>
    public void Dispose()
    {
        _workers?.Dispose();
        foreach (var layer in _layers.Values)
        {
            foreach (var expert in layer.Values)
            {
                expert.Dispose();
            }
        }

        _layers.Clear();
    }
}
