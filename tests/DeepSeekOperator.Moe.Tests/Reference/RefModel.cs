using System.Text.Json;

namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>
/// A DeepSeek-V3 (or V2) checkpoint evaluated in float64 with plain loops, the straightforward way: keys and values
/// are decompressed per token and every sequence is processed whole and causally from position 0. It shares no code
/// with the project's implementation, so the two can be compared.
/// </summary>
internal sealed class RefModel
{
    /// <summary>
    /// Epsilon of <c>q_a_layernorm</c> and <c>kv_a_layernorm</c>: Hugging Face's <c>DeepseekV3Attention</c> and
    /// DeepSeek's <c>inference/model.py</c> build these norms with the default 1e-6, not <c>rms_norm_eps</c>.
    /// </summary>
    public const double LatentNormEps = 1e-6;

    private readonly Dictionary<string, RefSafetensors> files;
    private readonly Dictionary<string, double[]> cache = new(StringComparer.Ordinal);
    private readonly Lock cacheLock = new();
    private readonly double[] inverseFrequencies;
    private readonly double cosSinScale;
    private readonly double softmaxScale;

    private RefModel(RefConfig config, Dictionary<string, RefSafetensors> files)
    {
        Config = config;
        this.files = files;
        inverseFrequencies = RefRotary.InverseFrequencies(config);
        cosSinScale = RefRotary.CosSinScale(config.RopeScaling);
        softmaxScale = RefRotary.SoftmaxScale(config);
    }

    /// <summary>The checkpoint's architecture.</summary>
    public RefConfig Config { get; }

    /// <summary>
    /// Opens <c>config.json</c> and <c>model.safetensors</c> (or the shards of <c>model.safetensors.index.json</c>) in
    /// <paramref name="modelDirectory"/> and checks that every tensor the layers use is present with its expected shape.
    /// Tensor data is read on first use.
    /// </summary>
    public static RefModel Load(string modelDirectory)
    {
        var config = RefConfig.Load(Path.Combine(modelDirectory, "config.json"));
        var model = new RefModel(config, OpenWeights(modelDirectory));
        foreach (var (name, shape) in ExpectedTensors(config))
        {
            model.Info(name, shape);
        }

        return model;
    }

    /// <summary>Every tensor the reference reads for <paramref name="config"/>, with its shape (the MTP layer excluded).</summary>
    public static IEnumerable<(string Name, long[] Shape)> ExpectedTensors(RefConfig config)
    {
        long h = config.HiddenSize;
        yield return ("model.embed_tokens.weight", [config.VocabSize, h]);
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            var prefix = $"model.layers.{layer}.";
            yield return (prefix + "input_layernorm.weight", [h]);
            yield return (prefix + "post_attention_layernorm.weight", [h]);
            foreach (var tensor in AttentionTensors(config, prefix + "self_attn."))
            {
                yield return tensor;
            }

            if (!config.IsMoeLayer(layer))
            {
                foreach (var tensor in MlpTensors(prefix + "mlp.", h, config.IntermediateSize))
                {
                    yield return tensor;
                }

                continue;
            }

            long experts = config.NRoutedExperts!.Value;
            yield return (prefix + "mlp.gate.weight", [experts, h]);
            if (config.TopkMethod == "noaux_tc")
            {
                yield return (prefix + "mlp.gate.e_score_correction_bias", [experts]);
            }

            for (var e = 0; e < experts; e++)
            {
                foreach (var tensor in MlpTensors($"{prefix}mlp.experts.{e}.", h, config.MoeIntermediateSize))
                {
                    yield return tensor;
                }
            }

            if (config.NSharedExperts is > 0 and var shared)
            {
                foreach (var tensor in MlpTensors(prefix + "mlp.shared_experts.", h, (long)config.MoeIntermediateSize * shared))
                {
                    yield return tensor;
                }
            }
        }

        yield return ("model.norm.weight", [h]);
        if (!config.TieWordEmbeddings)
        {
            yield return ("lm_head.weight", [config.VocabSize, h]);
        }
    }

    /// <summary>A copy of tensor <paramref name="name"/> (Hugging Face name) as doubles, flat and row-major.</summary>
    public double[] Weight(string name) => (double[])Cached(name).Clone();

    /// <summary>The shape of tensor <paramref name="name"/> as stored.</summary>
    public long[] Shape(string name) => Info(name, expected: null).Shape;

    /// <summary>Whether <paramref name="layer"/> routes through experts (else it has a dense MLP).</summary>
    public bool IsMoeLayer(int layer)
    {
        CheckLayer(layer);
        return Config.IsMoeLayer(layer);
    }

    /// <summary>
    /// Multi-head latent attention of layer <paramref name="layer"/> over a whole causal sequence
    /// <paramref name="normedX"/> [T][H] at positions 0..T-1 (the input already passed through <c>input_layernorm</c>).
    /// </summary>
    public double[][] Attention(int layer, double[][] normedX)
    {
        CheckLayer(layer);
        CheckSequence(normedX);
        var c = Config;
        var p = $"model.layers.{layer}.self_attn.";
        int heads = c.NumAttentionHeads, nope = c.QkNopeHeadDim, rope = c.QkRopeHeadDim, v = c.VHeadDim, qk = c.QkHeadDim;
        var tokens = normedX.Length;

        // Per token and head: the query [nope | rotated rope], the key [k_nope | shared rotated k_pe] and the value.
        var queries = new double[tokens][][];
        var keys = new double[tokens][][];
        var values = new double[tokens][][];
        for (var t = 0; t < tokens; t++)
        {
            var x = normedX[t];
            var q = c.QLoraRank is null
                ? RefMath.Linear(x, W(p + "q_proj.weight"))
                : RefMath.Linear(RefMath.RmsNorm(RefMath.Linear(x, W(p + "q_a_proj.weight")), W(p + "q_a_layernorm.weight"), LatentNormEps),
                    W(p + "q_b_proj.weight"));

            var compressed = RefMath.Linear(x, W(p + "kv_a_proj_with_mqa.weight"));
            var latent = RefMath.RmsNorm(compressed[..c.KvLoraRank], W(p + "kv_a_layernorm.weight"), LatentNormEps);
            var kPe = RefRotary.Rotate(compressed.AsSpan(c.KvLoraRank, rope), t, inverseFrequencies, cosSinScale);
            var kv = RefMath.Linear(latent, W(p + "kv_b_proj.weight"));

            queries[t] = new double[heads][];
            keys[t] = new double[heads][];
            values[t] = new double[heads][];
            for (var h = 0; h < heads; h++)
            {
                var qHead = q.AsSpan(h * qk, qk);
                var qPe = RefRotary.Rotate(qHead[nope..], t, inverseFrequencies, cosSinScale);
                queries[t][h] = [.. qHead[..nope], .. qPe];

                var kvHead = kv.AsSpan(h * (nope + v), nope + v);
                keys[t][h] = [.. kvHead[..nope], .. kPe];
                values[t][h] = kvHead[nope..].ToArray();
            }
        }

        var output = new double[tokens][];
        for (var t = 0; t < tokens; t++)
        {
            var attended = new double[heads * v];
            for (var h = 0; h < heads; h++)
            {
                var scores = new double[t + 1];
                for (var s = 0; s <= t; s++)
                {
                    scores[s] = RefMath.Dot(queries[t][h], keys[s][h]) * softmaxScale;
                }

                var probabilities = RefMath.Softmax(scores);
                for (var s = 0; s <= t; s++)
                {
                    for (var j = 0; j < v; j++)
                    {
                        attended[(h * v) + j] += probabilities[s] * values[s][h][j];
                    }
                }
            }

            output[t] = RefMath.Linear(attended, W(p + "o_proj.weight"));
        }

        return output;
    }

    /// <summary>The dense SwiGLU MLP of a non-MoE layer, per token of <paramref name="normedX"/> (after <c>post_attention_layernorm</c>).</summary>
    public double[][] DenseMlp(int layer, double[][] normedX)
    {
        if (IsMoeLayer(layer))
        {
            throw new ArgumentException($"Layer {layer} is a MoE layer; it has no dense MLP", nameof(layer));
        }

        CheckSequence(normedX);
        var p = $"model.layers.{layer}.mlp.";
        return [.. normedX.Select(x => RefExpert.Forward(x, W(p + "gate_proj.weight"), W(p + "up_proj.weight"), W(p + "down_proj.weight"), Config.IntermediateSize))];
    }

    /// <summary>The routing of each token of <paramref name="normedX"/> in MoE layer <paramref name="layer"/>.</summary>
    public RefRouting[] Route(int layer, double[][] normedX)
    {
        if (!IsMoeLayer(layer))
        {
            throw new ArgumentException($"Layer {layer} is a dense layer; it has no gate", nameof(layer));
        }

        CheckSequence(normedX);
        var p = $"model.layers.{layer}.mlp.gate.";
        var bias = Config.TopkMethod == "noaux_tc" ? W(p + "e_score_correction_bias") : null;
        return [.. normedX.Select(x => RefGate.Route(Config, x, W(p + "weight"), bias))];
    }

    /// <summary>
    /// The MoE block of layer <paramref name="layer"/>: Σ weight·expert(x) over the routed experts, plus the shared
    /// experts (one SwiGLU of width moe_intermediate_size · n_shared_experts).
    /// </summary>
    public double[][] Moe(int layer, double[][] normedX)
    {
        var routings = Route(layer, normedX);
        var p = $"model.layers.{layer}.mlp.";
        var output = new double[normedX.Length][];
        for (var t = 0; t < normedX.Length; t++)
        {
            var x = normedX[t];
            var y = new double[x.Length];
            var routing = routings[t];
            for (var k = 0; k < routing.Experts.Length; k++)
            {
                var e = $"{p}experts.{routing.Experts[k]}.";
                var expert = RefExpert.Forward(x, W(e + "gate_proj.weight"), W(e + "up_proj.weight"), W(e + "down_proj.weight"), Config.MoeIntermediateSize);
                for (var i = 0; i < y.Length; i++)
                {
                    y[i] += routing.Weights[k] * expert[i];
                }
            }

            if (Config.NSharedExperts is > 0 and var shared)
            {
                var s = p + "shared_experts.";
                y = RefMath.Add(y, RefExpert.Forward(x, W(s + "gate_proj.weight"), W(s + "up_proj.weight"), W(s + "down_proj.weight"), Config.MoeIntermediateSize * shared));
            }

            output[t] = y;
        }

        return output;
    }

    /// <summary>The embedding rows of <paramref name="tokens"/>.</summary>
    public double[][] Embed(IReadOnlyList<int> tokens)
    {
        if (tokens.Count == 0)
        {
            throw new ArgumentException("Embed: no tokens", nameof(tokens));
        }

        var embedding = W("model.embed_tokens.weight");
        var h = Config.HiddenSize;
        var rows = new double[tokens.Count][];
        for (var t = 0; t < tokens.Count; t++)
        {
            var token = tokens[t];
            if (token < 0 || token >= Config.VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"Embed: token {token} at position {t} is outside the vocabulary [0, {Config.VocabSize})");
            }

            rows[t] = embedding.AsSpan(token * h, h).ToArray();
        }

        return rows;
    }

    /// <summary>
    /// One decoder layer on the residual stream <paramref name="x"/>:
    /// <c>h = x + Attn(input_layernorm(x)); out = h + Mlp(post_attention_layernorm(h))</c>.
    /// </summary>
    public double[][] Layer(int layer, double[][] x)
    {
        CheckLayer(layer);
        CheckSequence(x);
        var p = $"model.layers.{layer}.";
        var attention = Attention(layer, Norm(x, p + "input_layernorm.weight"));
        var h = x.Select((row, t) => RefMath.Add(row, attention[t])).ToArray();
        var normed = Norm(h, p + "post_attention_layernorm.weight");
        var mlp = IsMoeLayer(layer) ? Moe(layer, normed) : DenseMlp(layer, normed);
        return [.. h.Select((row, t) => RefMath.Add(row, mlp[t]))];
    }

    /// <summary>The residual stream after every layer and <c>model.norm</c>, per token.</summary>
    public double[][] FinalHidden(IReadOnlyList<int> tokens)
    {
        var x = Embed(tokens);
        for (var layer = 0; layer < Config.NumHiddenLayers; layer++)
        {
            x = Layer(layer, x);
        }

        return Norm(x, "model.norm.weight");
    }

    /// <summary>Next-token logits [T][vocab] for a whole prompt, position t seeing tokens 0..t.</summary>
    public double[][] Logits(IReadOnlyList<int> tokens)
    {
        var head = W(Config.TieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight");
        return [.. FinalHidden(tokens).Select(x => RefMath.Linear(x, head))];
    }

    private static IEnumerable<(string Name, long[] Shape)> AttentionTensors(RefConfig c, string prefix)
    {
        long h = c.HiddenSize, heads = c.NumAttentionHeads;
        if (c.QLoraRank is { } qLora)
        {
            yield return (prefix + "q_a_proj.weight", [qLora, h]);
            yield return (prefix + "q_a_layernorm.weight", [qLora]);
            yield return (prefix + "q_b_proj.weight", [heads * c.QkHeadDim, qLora]);
        }
        else
        {
            yield return (prefix + "q_proj.weight", [heads * c.QkHeadDim, h]);
        }

        yield return (prefix + "kv_a_proj_with_mqa.weight", [c.KvLoraRank + c.QkRopeHeadDim, h]);
        yield return (prefix + "kv_a_layernorm.weight", [c.KvLoraRank]);
        yield return (prefix + "kv_b_proj.weight", [heads * (c.QkNopeHeadDim + c.VHeadDim), c.KvLoraRank]);
        yield return (prefix + "o_proj.weight", [h, heads * c.VHeadDim]);
    }

    private static IEnumerable<(string Name, long[] Shape)> MlpTensors(string prefix, long hidden, long intermediate)
    {
        yield return (prefix + "gate_proj.weight", [intermediate, hidden]);
        yield return (prefix + "up_proj.weight", [intermediate, hidden]);
        yield return (prefix + "down_proj.weight", [hidden, intermediate]);
    }

    private static Dictionary<string, RefSafetensors> OpenWeights(string directory)
    {
        var single = Path.Combine(directory, "model.safetensors");
        var index = Path.Combine(directory, "model.safetensors.index.json");
        var byTensor = new Dictionary<string, RefSafetensors>(StringComparer.Ordinal);
        if (File.Exists(single))
        {
            var file = RefSafetensors.Open(single);
            foreach (var name in file.Tensors.Keys)
            {
                byTensor[name] = file;
            }

            return byTensor;
        }

        if (!File.Exists(index))
        {
            throw new FileNotFoundException($"{directory}: neither model.safetensors nor model.safetensors.index.json exists", single);
        }

        using var document = JsonDocument.Parse(File.ReadAllText(index));
        if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{index}: missing object \"weight_map\"");
        }

        var shards = new Dictionary<string, RefSafetensors>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"{index}: weight_map.{entry.Name} must be a file name");
            }

            var shardName = entry.Value.GetString()!;
            if (!shards.TryGetValue(shardName, out var shard))
            {
                shard = RefSafetensors.Open(Path.Combine(directory, shardName));
                shards.Add(shardName, shard);
            }

            if (!shard.Tensors.ContainsKey(entry.Name))
            {
                throw new InvalidDataException($"{index}: weight_map puts {entry.Name} in {shardName}, whose header does not list it");
            }

            byTensor[entry.Name] = shard;
        }

        return byTensor;
    }

    private RefTensorInfo Info(string name, long[]? expected)
    {
        if (!files.TryGetValue(name, out var file))
        {
            throw new KeyNotFoundException($"The checkpoint has no tensor {name}");
        }

        var info = file.Tensors[name];
        if (expected is not null && !info.Shape.SequenceEqual(expected))
        {
            throw new InvalidDataException(
                $"{file.Path}: tensor {name} has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", expected)}] from config.json");
        }

        return info;
    }

    /// <summary>The cached weight itself, for the reference's own read-only use.</summary>
    private double[] W(string name) => Cached(name);

    private double[] Cached(string name)
    {
        lock (cacheLock)
        {
            if (!cache.TryGetValue(name, out var values))
            {
                var file = files.TryGetValue(name, out var f) ? f : throw new KeyNotFoundException($"The checkpoint has no tensor {name}");
                values = file.Read(name);
                cache.Add(name, values);
            }

            return values;
        }
    }

    private double[][] Norm(double[][] x, string weightName)
    {
        var w = W(weightName);
        return [.. x.Select(row => RefMath.RmsNorm(row, w, Config.RmsNormEps))];
    }

    private void CheckLayer(int layer)
    {
        if (layer < 0 || layer >= Config.NumHiddenLayers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), $"Layer {layer} is outside [0, {Config.NumHiddenLayers})");
        }
    }

    private void CheckSequence(double[][] x)
    {
        if (x.Length == 0)
        {
            throw new ArgumentException("The sequence has no tokens", nameof(x));
        }

        for (var t = 0; t < x.Length; t++)
        {
            if (x[t].Length != Config.HiddenSize)
            {
                throw new ArgumentException($"Token {t} has {x[t].Length} features, expected hidden_size {Config.HiddenSize}", nameof(x));
            }
        }
    }
}
