using DeepSeekOperator.Moe.Internal;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe;

/// <summary>One sequence's part of a forward pass: new tokens appended to its cache.</summary>
/// <param name="Cache">The sequence's cache; the tokens take positions from <see cref="KvCache.Length"/> on.</param>
/// <param name="Tokens">The new token ids (a whole prompt, a chunk of one, or one generated token).</param>
public sealed record SequenceInput(KvCache Cache, IReadOnlyList<int> Tokens);

/// <summary>Which rows a forward pass returns logits for.</summary>
public enum LogitsFor
{
    /// <summary>The last new token of each sequence: <c>[sequences, vocab]</c>.</summary>
    LastToken,

    /// <summary>Every new token, in batch order: <c>[tokens, vocab]</c>.</summary>
    AllTokens,
}

/// <summary>
/// A DeepSeek-V3-architecture model: embeddings, MLA attention, dense and MoE layers, final norm and
/// output head. The routed experts are run by an <see cref="IExpertExecutor"/>, in this process or elsewhere.
/// A forward pass takes several sequences at different positions at once, flattened to one batch of tokens
/// for every projection and expert, with attention per sequence against its own cache.
/// </summary>
public sealed class MoeModel : IDisposable
{
    private readonly Tensor _embedding;
    private readonly Tensor _finalNorm;
    private readonly Tensor _lmHead;
    private readonly DecoderLayer[] _layers;
    private readonly RotaryEmbedding _rotary;
    private LocalExpertExecutor? _ownedExperts;

    /// <summary>
    /// Builds the model from its (non-routed-expert) weights, taking ownership of the tensors it uses.
    /// The weights must already have the model's dtype and device; gate weights may be float32.
    /// </summary>
    /// <exception cref="ArgumentException">A weight is missing or has the wrong shape.</exception>
    public MoeModel(ModelConfig config, IReadOnlyDictionary<string, Tensor> weights, IExpertExecutor experts, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(experts);
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            throw new ArgumentException($"dtype {dtype} is not supported: float32 or bfloat16", nameof(dtype));
        }

        Config = config;
        Experts = experts;
        Dtype = dtype;
        Device = device;
        var shapes = ModelTensors.Expected(config).Where(spec => spec.Kind != TensorKind.RoutedExpert).ToDictionary(spec => spec.Name, spec => spec.Shape);
        var taken = new List<Tensor>();
        Tensor Take(string name)
        {
            if (!weights.TryGetValue(name, out var tensor))
            {
                throw new ArgumentException($"weight '{name}' is missing", nameof(weights));
            }

            if (shapes.TryGetValue(name, out var shape) && !tensor.shape.SequenceEqual(shape))
            {
                throw new ArgumentException($"weight '{name}' has shape [{string.Join(", ", tensor.shape)}], but config.json implies [{string.Join(", ", shape)}]", nameof(weights));
            }

            taken.Add(tensor);
            return tensor;
        }

        var layers = new List<DecoderLayer>();
        try
        {
            _embedding = Take("model.embed_tokens.weight");
            _finalNorm = Take("model.norm.weight");
            _lmHead = config.TieWordEmbeddings ? _embedding : Take("lm_head.weight");
            for (var layer = 0; layer < config.NumHiddenLayers; layer++)
            {
                layers.Add(new DecoderLayer(config, layer, Take));
            }

            _layers = [.. layers];
            _rotary = new RotaryEmbedding(config, device);
        }
        catch
        {
            // Ownership passes only with a built model: free what was taken, and what the built layers derived from it.
            foreach (var layer in layers)
            {
                layer.Dispose();
            }

            foreach (var tensor in taken)
            {
                tensor.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Builds a whole model, routed experts included (run in this process), from weights by Hugging Face
    /// name, converting them to <paramref name="dtype"/> on <paramref name="device"/>. Takes ownership of the
    /// tensors; the model disposes its experts with itself.
    /// </summary>
    /// <exception cref="ArgumentException">A weight is missing or has the wrong shape.</exception>
    public static MoeModel FromWeights(ModelConfig config, IReadOnlyDictionary<string, Tensor> weights, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        var specs = ModelTensors.Expected(config).ToList();
        var missing = specs.FirstOrDefault(spec => !weights.ContainsKey(spec.Name));
        if (missing is not null)
        {
            throw new ArgumentException($"weight '{missing.Name}' is missing", nameof(weights));
        }

        var converted = new Dictionary<string, Tensor>();
        var experts = new Dictionary<int, Dictionary<int, Tensor[]>>();
        LocalExpertExecutor? executor = null;
        try
        {
            foreach (var spec in specs)
            {
                var source = weights[spec.Name];
                var keepFloat32 = spec.Kind == TensorKind.Gate;
                var tensor = source.to(keepFloat32 ? ScalarType.Float32 : dtype, device).DetachFromDisposeScope();
                if (!ReferenceEquals(tensor, source))
                {
                    source.Dispose();
                }

                if (spec is { Kind: TensorKind.RoutedExpert, Layer: { } layer, Expert: { } expert })
                {
                    var layerExperts = experts.TryGetValue(layer, out var found) ? found : experts[layer] = [];
                    var projections = layerExperts.TryGetValue(expert, out var p) ? p : layerExperts[expert] = new Tensor[3];
                    projections[spec.Name.EndsWith("gate_proj.weight", StringComparison.Ordinal) ? 0 : spec.Name.EndsWith("up_proj.weight", StringComparison.Ordinal) ? 1 : 2] = tensor;
                }
                else
                {
                    converted[spec.Name] = tensor;
                }
            }

            executor = new LocalExpertExecutor(config, experts.ToDictionary(
                layer => layer.Key,
                layer => (IReadOnlyDictionary<int, ExpertWeights>)layer.Value.ToDictionary(e => e.Key, e => new ExpertWeights(e.Value[0], e.Value[1], e.Value[2]))));
            return new MoeModel(config, converted, executor, dtype, device) { _ownedExperts = executor };
        }
        catch
        {
            executor?.Dispose();
            foreach (var tensor in converted.Values.Concat(experts.Values.SelectMany(l => l.Values).SelectMany(p => p)))
            {
                tensor?.Dispose();
            }

            throw;
        }
    }

    /// <summary>The architecture.</summary>
    public ModelConfig Config { get; }

    /// <summary>Runs the routed experts.</summary>
    public IExpertExecutor Experts { get; }

    /// <summary>The dtype of weights and activations.</summary>
    public ScalarType Dtype { get; }

    /// <summary>The device the model runs on.</summary>
    public Device Device { get; }

    internal IReadOnlyList<DecoderLayer> Layers => _layers;

    internal RotaryEmbedding Rotary => _rotary;

    /// <summary>Raised after the gate of an MoE layer has routed a batch (layer, assignments): the source of expert-load statistics.</summary>
    public event Action<int, ExpertAssignments>? Routed;

    /// <summary>A new, empty cache for one sequence.</summary>
    public KvCache CreateCache(int initialCapacity = 256) => new(this, Config, Dtype, Device, initialCapacity);

    /// <summary>
    /// Appends each sequence's new tokens and returns float32 logits. The caches advance only when the whole
    /// pass succeeds.
    /// </summary>
    /// <exception cref="ArgumentException">A token id is outside the vocabulary, a sequence has no tokens, or a cache appears twice or belongs to another model.</exception>
    /// <exception cref="InvalidOperationException">A sequence would exceed <c>max_position_embeddings</c>.</exception>
    public async ValueTask<Tensor> ForwardAsync(IReadOnlyList<SequenceInput> batch, LogitsFor logits = LogitsFor.LastToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var (segments, ids, positions) = Plan(batch);
        var tokenCount = ids.Length;
        Tensor x;
        Tensor cos, sin;
        using (NewDisposeScope())
        {
            using var idTensor = tensor(ids, ScalarType.Int64, Device);
            using var positionTensor = tensor(positions, ScalarType.Int64, Device);
            var embedded = _embedding.index_select(0, idTensor);
            (cos, sin) = _rotary.Angles(positionTensor, ScalarType.Float32);
            x = embedded.DetachFromDisposeScope();
            cos.DetachFromDisposeScope();
            sin.DetachFromDisposeScope();
        }

        try
        {
            foreach (var layer in _layers)
            {
                var next = await layer.ForwardAsync(x, cos, sin, segments, Experts, Routed, cancellationToken).ConfigureAwait(false);
                x.Dispose();
                x = next;
            }

            using var scope = NewDisposeScope();
            var rows = logits == LogitsFor.AllTokens
                ? x
                : x.index_select(0, tensor(segments.Select(s => (long)(s.Offset + s.Count - 1)).ToArray(), ScalarType.Int64, Device));
            var result = nn.functional.linear(Ops.RmsNorm(rows, _finalNorm, Config.RmsNormEps), _lmHead).to(ScalarType.Float32);
            foreach (var segment in segments)
            {
                segment.Cache.Commit(segment.Count);
            }

            return result.DetachFromDisposeScope();
        }
        finally
        {
            x.Dispose();
            cos.Dispose();
            sin.Dispose();
        }
    }

    private (Segment[] Segments, long[] Ids, long[] Positions) Plan(IReadOnlyList<SequenceInput> batch)
    {
        if (batch.Count == 0)
        {
            throw new ArgumentException("the batch has no sequences", nameof(batch));
        }

        var segments = new Segment[batch.Count];
        var seen = new HashSet<KvCache>(ReferenceEqualityComparer.Instance);
        var offset = 0;
        for (var s = 0; s < batch.Count; s++)
        {
            var (cache, tokens) = batch[s];
            if (tokens.Count == 0)
            {
                throw new ArgumentException($"sequence {s} has no tokens", nameof(batch));
            }

            if (!ReferenceEquals(cache.Owner, this))
            {
                throw new ArgumentException($"sequence {s}: the cache was created by another model", nameof(batch));
            }

            if (!seen.Add(cache))
            {
                throw new ArgumentException($"sequence {s}: its cache appears more than once in the batch", nameof(batch));
            }

            segments[s] = new Segment(cache, offset, tokens.Count);
            offset += tokens.Count;
        }

        var ids = new long[offset];
        var positions = new long[offset];
        for (var s = 0; s < batch.Count; s++)
        {
            var (cache, tokens) = batch[s];
            for (var i = 0; i < tokens.Count; i++)
            {
                if ((uint)tokens[i] >= (uint)Config.VocabSize)
                {
                    throw new ArgumentException($"sequence {s}: token {i} is id {tokens[i]}, outside the vocabulary of {Config.VocabSize}", nameof(batch));
                }

                ids[segments[s].Offset + i] = tokens[i];
                positions[segments[s].Offset + i] = cache.Length + i;
            }
        }

        foreach (var segment in segments)
        {
            segment.Cache.Reserve(segment.Count);
        }

        return (segments, ids, positions);
    }

    /// <summary>Frees the weights, and the experts when <see cref="FromWeights"/> built them (an executor passed in stays the caller's).</summary>
    public void Dispose()
    {
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }

        _embedding.Dispose();
        _finalNorm.Dispose();
        _lmHead.Dispose();
        _rotary.Dispose();
        _ownedExperts?.Dispose();
    }
}
