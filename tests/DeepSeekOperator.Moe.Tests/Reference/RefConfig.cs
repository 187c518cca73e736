using System.Globalization;
using System.Text.Json;

namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>
/// The architecture hyper-parameters of a DeepSeek-V3 (or V2) checkpoint, read from its Hugging Face <c>config.json</c>.
/// A key that is absent takes the default of Hugging Face's <c>DeepseekV3Config</c>.
/// </summary>
internal sealed record RefConfig
{
    /// <summary>The DeepSeek-V3 defaults, as Hugging Face's <c>DeepseekV3Config()</c> sets them.</summary>
    public static RefConfig Default { get; } = new();

    /// <summary>Rows of the embedding and of the output head.</summary>
    public int VocabSize { get; init; } = 129280;

    /// <summary>Width of the residual stream.</summary>
    public int HiddenSize { get; init; } = 7168;

    /// <summary>Intermediate width of the dense MLP layers.</summary>
    public int IntermediateSize { get; init; } = 18432;

    /// <summary>Intermediate width of one routed expert (a shared expert is this times <see cref="NSharedExperts"/>).</summary>
    public int MoeIntermediateSize { get; init; } = 2048;

    /// <summary>Decoder layers; a layer at this index (multi-token prediction) is ignored.</summary>
    public int NumHiddenLayers { get; init; } = 61;

    /// <summary>Attention heads.</summary>
    public int NumAttentionHeads { get; init; } = 128;

    /// <summary>Shared experts per MoE layer, or null for none.</summary>
    public int? NSharedExperts { get; init; } = 1;

    /// <summary>Routed experts per MoE layer, or null for a model without MoE layers.</summary>
    public int? NRoutedExperts { get; init; } = 256;

    /// <summary>Multiplier of the routing weights.</summary>
    public double RoutedScalingFactor { get; init; } = 2.5;

    /// <summary>Width of the compressed key-value latent.</summary>
    public int KvLoraRank { get; init; } = 512;

    /// <summary>Width of the compressed query latent, or null when queries come from a single <c>q_proj</c>.</summary>
    public int? QLoraRank { get; init; } = 1536;

    /// <summary>Rotary dimensions of each query/key head (and of the shared key).</summary>
    public int QkRopeHeadDim { get; init; } = 64;

    /// <summary>Value dimensions per head.</summary>
    public int VHeadDim { get; init; } = 128;

    /// <summary>Non-rotary query/key dimensions per head.</summary>
    public int QkNopeHeadDim { get; init; } = 128;

    /// <summary>Expert selection: <c>noaux_tc</c>, <c>greedy</c> or <c>group_limited_greedy</c>.</summary>
    public string TopkMethod { get; init; } = "noaux_tc";

    /// <summary>Contiguous expert groups.</summary>
    public int NGroup { get; init; } = 8;

    /// <summary>Groups kept per token.</summary>
    public int TopkGroup { get; init; } = 4;

    /// <summary>Routed experts per token.</summary>
    public int NumExpertsPerTok { get; init; } = 8;

    /// <summary>Every this-many layers (from <see cref="FirstKDenseReplace"/>) is MoE.</summary>
    public int MoeLayerFreq { get; init; } = 1;

    /// <summary>The first this-many layers are dense.</summary>
    public int FirstKDenseReplace { get; init; } = 3;

    /// <summary>Whether routing weights are divided by their sum.</summary>
    public bool NormTopkProb { get; init; } = true;

    /// <summary>Gate scoring: <c>sigmoid</c> or <c>softmax</c>.</summary>
    public string ScoringFunc { get; init; } = "sigmoid";

    /// <summary>Longest context the model is configured for.</summary>
    public int MaxPositionEmbeddings { get; init; } = 4096;

    /// <summary>Epsilon of the decoder RMS norms.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary>Rotary base.</summary>
    public double RopeTheta { get; init; } = 10000;

    /// <summary>YaRN context extension, or null for plain rotary embedding.</summary>
    public RefRopeScaling? RopeScaling { get; init; }

    /// <summary>Whether the output head reuses the embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Query/key width per head: nope + rope.</summary>
    public int QkHeadDim => QkNopeHeadDim + QkRopeHeadDim;

    /// <summary>Whether decoder layer <paramref name="layer"/> is MoE: <c>layer >= first_k_dense_replace &amp;&amp; layer % moe_layer_freq == 0</c>.</summary>
    public bool IsMoeLayer(int layer) => NRoutedExperts is not null && layer >= FirstKDenseReplace && layer % MoeLayerFreq == 0;

    /// <summary>Reads and checks a <c>config.json</c>.</summary>
    public static RefConfig Load(string configJsonPath) => Parse(File.ReadAllText(configJsonPath), configJsonPath);

    /// <summary>Parses and checks the text of a <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    public static RefConfig Parse(string json, string source = "config.json")
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{source}: expected a JSON object, found {root.ValueKind}");
        }

        var d = Default;
        var reader = new Reader(root, source);
        var config = new RefConfig
        {
            VocabSize = reader.Int("vocab_size", d.VocabSize),
            HiddenSize = reader.Int("hidden_size", d.HiddenSize),
            IntermediateSize = reader.Int("intermediate_size", d.IntermediateSize),
            MoeIntermediateSize = reader.Int("moe_intermediate_size", d.MoeIntermediateSize),
            NumHiddenLayers = reader.Int("num_hidden_layers", d.NumHiddenLayers),
            NumAttentionHeads = reader.Int("num_attention_heads", d.NumAttentionHeads),
            NSharedExperts = reader.NullableInt("n_shared_experts", d.NSharedExperts),
            NRoutedExperts = reader.NullableInt("n_routed_experts", d.NRoutedExperts),
            RoutedScalingFactor = reader.Double("routed_scaling_factor", d.RoutedScalingFactor),
            KvLoraRank = reader.Int("kv_lora_rank", d.KvLoraRank),
            QLoraRank = reader.NullableInt("q_lora_rank", d.QLoraRank),
            QkRopeHeadDim = reader.Int("qk_rope_head_dim", d.QkRopeHeadDim),
            VHeadDim = reader.Int("v_head_dim", d.VHeadDim),
            QkNopeHeadDim = reader.Int("qk_nope_head_dim", d.QkNopeHeadDim),
            TopkMethod = reader.String("topk_method", d.TopkMethod),
            NGroup = reader.Int("n_group", d.NGroup),
            TopkGroup = reader.Int("topk_group", d.TopkGroup),
            NumExpertsPerTok = reader.Int("num_experts_per_tok", d.NumExpertsPerTok),
            MoeLayerFreq = reader.Int("moe_layer_freq", d.MoeLayerFreq),
            FirstKDenseReplace = reader.Int("first_k_dense_replace", d.FirstKDenseReplace),
            NormTopkProb = reader.Bool("norm_topk_prob", d.NormTopkProb),
            ScoringFunc = reader.String("scoring_func", d.ScoringFunc),
            MaxPositionEmbeddings = reader.Int("max_position_embeddings", d.MaxPositionEmbeddings),
            RmsNormEps = reader.Double("rms_norm_eps", d.RmsNormEps),
            RopeTheta = reader.Double("rope_theta", d.RopeTheta),
            RopeScaling = reader.RopeScaling("rope_scaling"),
            TieWordEmbeddings = reader.Bool("tie_word_embeddings", d.TieWordEmbeddings),
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Checks the values are usable together; the message names <paramref name="source"/> and the key.</summary>
    public void Validate(string source = "config.json")
    {
        Positive(source, "vocab_size", VocabSize);
        Positive(source, "hidden_size", HiddenSize);
        Positive(source, "intermediate_size", IntermediateSize);
        Positive(source, "num_hidden_layers", NumHiddenLayers);
        Positive(source, "num_attention_heads", NumAttentionHeads);
        Positive(source, "kv_lora_rank", KvLoraRank);
        Positive(source, "qk_rope_head_dim", QkRopeHeadDim);
        Positive(source, "v_head_dim", VHeadDim);
        Positive(source, "moe_layer_freq", MoeLayerFreq);
        if (QkNopeHeadDim < 0)
        {
            throw new InvalidDataException($"{source}: qk_nope_head_dim must be >= 0, got {QkNopeHeadDim}");
        }

        if (QkRopeHeadDim % 2 != 0)
        {
            throw new InvalidDataException($"{source}: qk_rope_head_dim must be even (rotary pairs), got {QkRopeHeadDim}");
        }

        if (QLoraRank is { } qLora)
        {
            Positive(source, "q_lora_rank", qLora);
        }

        if (FirstKDenseReplace < 0)
        {
            throw new InvalidDataException($"{source}: first_k_dense_replace must be >= 0, got {FirstKDenseReplace}");
        }

        if (!(RmsNormEps >= 0))
        {
            throw new InvalidDataException($"{source}: rms_norm_eps must be >= 0, got {RmsNormEps}");
        }

        if (!(RopeTheta > 0))
        {
            throw new InvalidDataException($"{source}: rope_theta must be > 0, got {RopeTheta}");
        }

        if (NSharedExperts is < 0)
        {
            throw new InvalidDataException($"{source}: n_shared_experts must be >= 0, got {NSharedExperts}");
        }

        if (NRoutedExperts is { } experts)
        {
            ValidateRouting(source, experts);
        }

        RopeScaling?.Validate(source);
    }

    private void ValidateRouting(string source, int experts)
    {
        Positive(source, "n_routed_experts", experts);
        Positive(source, "moe_intermediate_size", MoeIntermediateSize);
        Positive(source, "n_group", NGroup);
        Positive(source, "topk_group", TopkGroup);
        Positive(source, "num_experts_per_tok", NumExpertsPerTok);
        if (ScoringFunc is not ("sigmoid" or "softmax"))
        {
            throw new InvalidDataException($"{source}: scoring_func must be \"sigmoid\" or \"softmax\", got \"{ScoringFunc}\"");
        }

        if (TopkMethod is not ("noaux_tc" or "greedy" or "group_limited_greedy"))
        {
            throw new InvalidDataException(
                $"{source}: topk_method must be \"noaux_tc\", \"greedy\" or \"group_limited_greedy\", got \"{TopkMethod}\"");
        }

        if (experts % NGroup != 0)
        {
            throw new InvalidDataException($"{source}: n_routed_experts ({experts}) must be a multiple of n_group ({NGroup})");
        }

        if (TopkGroup > NGroup)
        {
            throw new InvalidDataException($"{source}: topk_group ({TopkGroup}) must not exceed n_group ({NGroup})");
        }

        var candidates = TopkMethod == "greedy" ? experts : TopkGroup * (experts / NGroup);
        if (NumExpertsPerTok > candidates)
        {
            throw new InvalidDataException(
                $"{source}: num_experts_per_tok ({NumExpertsPerTok}) exceeds the {candidates} experts a token can reach with topk_method \"{TopkMethod}\"");
        }

        if (TopkMethod == "noaux_tc" && NGroup > 1 && experts / NGroup < 2)
        {
            throw new InvalidDataException(
                $"{source}: noaux_tc scores a group by its top-2 experts, so n_routed_experts / n_group must be >= 2, got {experts / NGroup}");
        }
    }

    private static void Positive(string source, string key, int value)
    {
        if (value <= 0)
        {
            throw new InvalidDataException($"{source}: {key} must be > 0, got {value}");
        }
    }

    /// <summary>Typed access to the keys of one JSON object, with errors naming the source and key.</summary>
    internal sealed class Reader(JsonElement root, string source)
    {
        public int Int(string key, int fallback) => NullableInt(key, fallback, allowNull: false) ?? fallback;

        public int? NullableInt(string key, int? fallback) => NullableInt(key, fallback, allowNull: true);

        public double Double(string key, double fallback)
        {
            if (!root.TryGetProperty(key, out var value))
            {
                return fallback;
            }

            return value.ValueKind == JsonValueKind.Number
                ? value.GetDouble()
                : throw Wrong(key, "a number", value);
        }

        public bool Bool(string key, bool fallback)
        {
            if (!root.TryGetProperty(key, out var value))
            {
                return fallback;
            }

            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Wrong(key, "true or false", value),
            };
        }

        public string String(string key, string fallback)
        {
            if (!root.TryGetProperty(key, out var value))
            {
                return fallback;
            }

            return value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Wrong(key, "a string", value);
        }

        public RefRopeScaling? RopeScaling(string key)
        {
            if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Object)
            {
                throw Wrong(key, "null or an object", value);
            }

            var inner = new Reader(value, $"{source}: {key}");
            var type = value.TryGetProperty("type", out _) ? inner.String("type", "") : inner.String("rope_type", "");
            if (type != "yarn")
            {
                throw new InvalidDataException($"{source}: {key}.type must be \"yarn\", got \"{type}\"");
            }

            if (!value.TryGetProperty("factor", out _))
            {
                throw new InvalidDataException($"{source}: {key}.factor is required for yarn");
            }

            var d = new RefRopeScaling();
            return new RefRopeScaling
            {
                Factor = inner.Double("factor", d.Factor),
                OriginalMaxPositionEmbeddings = inner.Int("original_max_position_embeddings", d.OriginalMaxPositionEmbeddings),
                BetaFast = inner.Double("beta_fast", d.BetaFast),
                BetaSlow = inner.Double("beta_slow", d.BetaSlow),
                Mscale = inner.Double("mscale", d.Mscale),
                MscaleAllDim = inner.Double("mscale_all_dim", d.MscaleAllDim),
            };
        }

        private int? NullableInt(string key, int? fallback, bool allowNull)
        {
            if (!root.TryGetProperty(key, out var value))
            {
                return fallback;
            }

            if (value.ValueKind == JsonValueKind.Null && allowNull)
            {
                return null;
            }

            // Integers written as 1.0 are accepted, as Python's json would produce them from a float.
            if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number)
                && number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue)
            {
                return (int)number;
            }

            throw Wrong(key, allowNull ? "an integer or null" : "an integer", value);
        }

        private InvalidDataException Wrong(string key, string expected, JsonElement value) =>
            new($"{source}: {key} must be {expected}, got {value.ValueKind} {value.GetRawText()}");
    }
}

/// <summary>The YaRN <c>rope_scaling</c> block of a config, with Hugging Face's defaults for absent keys.</summary>
internal sealed record RefRopeScaling
{
    /// <summary>Context extension factor (the only required key).</summary>
    public double Factor { get; init; } = 1;

    /// <summary>Context length the model was pre-trained with.</summary>
    public int OriginalMaxPositionEmbeddings { get; init; } = 4096;

    /// <summary>Rotations above which a dimension keeps its original frequency.</summary>
    public double BetaFast { get; init; } = 32;

    /// <summary>Rotations below which a dimension is fully interpolated.</summary>
    public double BetaSlow { get; init; } = 1;

    /// <summary>Attention temperature numerator of the cos/sin multiplier.</summary>
    public double Mscale { get; init; } = 1;

    /// <summary>Attention temperature denominator of the cos/sin multiplier, and the softmax-scale correction.</summary>
    public double MscaleAllDim { get; init; }

    /// <summary>Checks the values; the message names <paramref name="source"/>.</summary>
    public void Validate(string source)
    {
        if (!(Factor > 0))
        {
            throw new InvalidDataException($"{source}: rope_scaling.factor must be > 0, got {Factor.ToString(CultureInfo.InvariantCulture)}");
        }

        if (OriginalMaxPositionEmbeddings <= 0)
        {
            throw new InvalidDataException(
                $"{source}: rope_scaling.original_max_position_embeddings must be > 0, got {OriginalMaxPositionEmbeddings}");
        }

        if (!(BetaFast > 0) || !(BetaSlow > 0))
        {
            throw new InvalidDataException(
                $"{source}: rope_scaling.beta_fast and beta_slow must be > 0, got {BetaFast.ToString(CultureInfo.InvariantCulture)} and {BetaSlow.ToString(CultureInfo.InvariantCulture)}");
        }
    }
}
