using static TorchSharp.torch;

namespace DeepSeekOperator.Moe;

/// <summary>The synthetic model sizes.</summary>
public enum SyntheticPreset
{
    /// <summary>Hidden 64, 4 layers (the first dense), 16 routed experts top-4 in 4 groups keeping 2, one shared expert: fast enough for every test.</summary>
    Tiny,

    /// <summary>About 100M parameters, 64 routed experts top-6: for benchmarks.</summary>
    Small,
}

/// <summary>
/// Deterministic random models with the real architecture, for tests, benchmarks and the development
/// cluster. The same preset and seed give the same weights whatever libtorch version or thread count: values
/// come from a per-tensor generator seeded by the seed and the tensor's name, not from libtorch's.
/// </summary>
public static class SyntheticModel
{
    /// <summary>The architecture of a preset.</summary>
    public static ModelConfig Config(SyntheticPreset preset) => preset switch
    {
        SyntheticPreset.Tiny => new ModelConfig
        {
            VocabSize = 512,
            HiddenSize = 64,
            IntermediateSize = 128,
            MoeIntermediateSize = 32,
            NumHiddenLayers = 4,
            NumAttentionHeads = 4,
            NSharedExperts = 1,
            NRoutedExperts = 16,
            RoutedScalingFactor = 2.5,
            KvLoraRank = 32,
            QLoraRank = 32,
            QkRopeHeadDim = 8,
            VHeadDim = 16,
            QkNopeHeadDim = 16,
            TopKMethod = TopKMethod.NoAuxTc,
            NGroup = 4,
            TopKGroup = 2,
            NumExpertsPerToken = 4,
            MoeLayerFrequency = 1,
            FirstKDenseReplace = 1,
            NormTopKProb = true,
            ScoringFunction = ScoringFunction.Sigmoid,
            MaxPositionEmbeddings = 2048,
            RmsNormEps = 1e-6,
            RopeTheta = 10000,
            RopeScaling = new RopeScaling("yarn", 4, OriginalMaxPositionEmbeddings: 512, BetaFast: 32, BetaSlow: 1, MScale: 1, MScaleAllDim: 0.707),
            BosTokenId = 256,
            EosTokenIds = [257],
        },
        SyntheticPreset.Small => new ModelConfig
        {
            VocabSize = 8192,
            HiddenSize = 512,
            IntermediateSize = 1536,
            MoeIntermediateSize = 128,
            NumHiddenLayers = 8,
            NumAttentionHeads = 8,
            NSharedExperts = 2,
            NRoutedExperts = 64,
            RoutedScalingFactor = 2.5,
            KvLoraRank = 128,
            QLoraRank = 192,
            QkRopeHeadDim = 16,
            VHeadDim = 32,
            QkNopeHeadDim = 32,
            TopKMethod = TopKMethod.NoAuxTc,
            NGroup = 8,
            TopKGroup = 4,
            NumExpertsPerToken = 6,
            MoeLayerFrequency = 1,
            FirstKDenseReplace = 1,
            NormTopKProb = true,
            ScoringFunction = ScoringFunction.Sigmoid,
            MaxPositionEmbeddings = 16384,
            RmsNormEps = 1e-6,
            RopeTheta = 10000,
            RopeScaling = new RopeScaling("yarn", 4, OriginalMaxPositionEmbeddings: 4096, BetaFast: 32, BetaSlow: 1, MScale: 1, MScaleAllDim: 1),
            BosTokenId = 256,
            EosTokenIds = [257],
        },
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "no such preset"),
    };

    /// <summary>
    /// The values of one tensor: norms near 1, embeddings unit normal, projections with variance 1/fan-in,
    /// gate biases small — and, with <paramref name="skew"/> above 0, biased towards low-numbered experts
    /// (by up to ±skew/2), so that expert load is uneven the way real traffic makes it.
    /// </summary>
    public static float[] Values(TensorSpec spec, int seed, double skew = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var random = new Normal(seed, spec.Name);
        var values = new float[spec.Elements];
        var isNorm = spec.Kind == TensorKind.Norm || spec.Name.EndsWith("layernorm.weight", StringComparison.Ordinal);
        if (isNorm)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)(1 + (0.1 * random.Next()));
            }
        }
        else if (spec.Name.EndsWith("e_score_correction_bias", StringComparison.Ordinal))
        {
            var experts = values.Length;
            for (var e = 0; e < experts; e++)
            {
                var preference = experts == 1 ? 0 : 0.5 - ((double)e / (experts - 1));
                values[e] = (float)((0.05 * random.Next()) + (skew * preference));
            }
        }
        else
        {
            var std = spec.Kind == TensorKind.Embedding ? 1.0 : 1.0 / Math.Sqrt(spec.Shape[^1]);
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)(std * random.Next());
            }
        }

        return values;
    }

    /// <summary>All of a model's weights as CPU tensors of <paramref name="dtype"/> (gate biases stay float32), by Hugging Face name.</summary>
    public static Dictionary<string, Tensor> Weights(ModelConfig config, int seed, double skew = 0, ScalarType dtype = ScalarType.Float32)
    {
        var weights = new Dictionary<string, Tensor>();
        foreach (var spec in ModelTensors.Expected(config))
        {
            weights[spec.Name] = Tensor(spec, seed, skew, dtype);
        }

        return weights;
    }

    /// <summary>
    /// Writes a model directory: <c>config.json</c> and the weights in <paramref name="dtype"/> as
    /// <c>model.safetensors</c>, or as <paramref name="shards"/> files with <c>model.safetensors.index.json</c>.
    /// </summary>
    public static void Write(string directory, ModelConfig config, int seed, double skew, ScalarType dtype, int shards = 1)
    {
        ArgumentNullException.ThrowIfNull(config);
        Directory.CreateDirectory(directory);
        var weights = Weights(config, seed, skew, dtype);
        try
        {
            Safetensors.SafetensorsWriter.WriteCheckpoint(directory, weights, shards, new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["synthetic"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"seed={seed} skew={skew}"),
            });
            File.WriteAllText(Path.Combine(directory, ModelConfig.FileName), config.ToJson());
        }
        finally
        {
            foreach (var tensor in weights.Values)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>One tensor of a synthetic model.</summary>
    public static Tensor Tensor(TensorSpec spec, int seed, double skew, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var values = tensor(Values(spec, seed, skew), [.. spec.Shape], ScalarType.Float32);
        var keepFloat32 = spec.Name.EndsWith("e_score_correction_bias", StringComparison.Ordinal);
        return (keepFloat32 ? values.clone() : values.to(dtype)).DetachFromDisposeScope();
    }

    /// <summary>Standard normal values from SplitMix64 and Box–Muller, seeded by (seed, tensor name).</summary>
    private sealed class Normal(int seed, string name)
    {
        private ulong _state = Mix(((ulong)(uint)seed << 32) ^ Fnv1a(name));
        private double? _spare;

        public double Next()
        {
            if (_spare is { } spare)
            {
                _spare = null;
                return spare;
            }

            double u, v, s;
            do
            {
                u = (Uniform() * 2) - 1;
                v = (Uniform() * 2) - 1;
                s = (u * u) + (v * v);
            }
            while (s >= 1 || s == 0);

            var factor = Math.Sqrt(-2 * Math.Log(s) / s);
            _spare = v * factor;
            return u * factor;
        }

        private double Uniform()
        {
            _state += 0x9E3779B97F4A7C15UL;
            return (Mix(_state) >> 11) * (1.0 / (1UL << 53));
        }

        private static ulong Mix(ulong z)
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        private static ulong Fnv1a(string text)
        {
            var hash = 14695981039346656037UL;
            foreach (var c in text)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }

            return hash;
        }
    }
}
