using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.Moe;

/// <summary>How the gate scores experts (<c>scoring_func</c>).</summary>
public enum ScoringFunction
{
    /// <summary>Independent sigmoid per expert (DeepSeek-V3).</summary>
    Sigmoid,

    /// <summary>Softmax over all experts (DeepSeek-V2).</summary>
    Softmax,
}

/// <summary>How the gate picks experts (<c>topk_method</c>).</summary>
public enum TopKMethod
{
    /// <summary>DeepSeek-V3: biased scores, group score = sum of the top two, group-limited top-k.</summary>
    NoAuxTc,

    /// <summary>DeepSeek-V2-Lite: plain top-k of the scores.</summary>
    Greedy,

    /// <summary>DeepSeek-V2: group score = best score of the group, group-limited top-k.</summary>
    GroupLimitedGreedy,
}

/// <summary>The rotary-embedding scaling of <c>rope_scaling</c>.</summary>
/// <param name="Type"><c>yarn</c> or <c>linear</c>.</param>
/// <param name="Factor">How much longer than the original the context becomes.</param>
/// <param name="OriginalMaxPositionEmbeddings">The context length the model was pre-trained at.</param>
/// <param name="BetaFast">YaRN: rotations above which frequencies are left as they are.</param>
/// <param name="BetaSlow">YaRN: rotations below which frequencies are fully interpolated.</param>
/// <param name="MScale">YaRN: attention temperature applied to cos/sin.</param>
/// <param name="MScaleAllDim">YaRN: attention temperature folded into the softmax scale.</param>
public sealed record RopeScaling(
    string Type,
    double Factor,
    int OriginalMaxPositionEmbeddings = 4096,
    double BetaFast = 32,
    double BetaSlow = 1,
    double MScale = 1,
    double MScaleAllDim = 0)
{
    /// <summary>Whether this is YaRN scaling.</summary>
    public bool IsYarn => Type == "yarn";

    /// <summary>YaRN's <c>yarn_get_mscale</c>: 1 for factor ≤ 1, else 0.1·mscale·ln(factor) + 1.</summary>
    public static double YarnMScale(double factor, double mscale) => factor <= 1 ? 1.0 : (0.1 * mscale * Math.Log(factor)) + 1.0;
}

/// <summary>
/// The architecture of a DeepSeek-V3-family model, read from a Hugging Face <c>config.json</c>.
/// Keys missing from the file take the defaults of Hugging Face's <c>DeepseekV3Config</c>; V2 and V2-Lite
/// are the same architecture with softmax scoring, <c>greedy</c> or <c>group_limited_greedy</c> routing and
/// (V2-Lite) no query compression.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>The name of the file a model directory keeps its configuration in.</summary>
    public const string FileName = "config.json";

    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; } = 129280;

    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; init; } = 7168;

    /// <summary><c>intermediate_size</c>: the dense MLP of the first layers.</summary>
    public int IntermediateSize { get; init; } = 18432;

    /// <summary><c>moe_intermediate_size</c>: one routed or shared expert.</summary>
    public int MoeIntermediateSize { get; init; } = 2048;

    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumHiddenLayers { get; init; } = 61;

    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumAttentionHeads { get; init; } = 128;

    /// <summary><c>n_shared_experts</c> (0 when null).</summary>
    public int NSharedExperts { get; init; } = 1;

    /// <summary><c>n_routed_experts</c>.</summary>
    public int NRoutedExperts { get; init; } = 256;

    /// <summary><c>routed_scaling_factor</c>.</summary>
    public double RoutedScalingFactor { get; init; } = 2.5;

    /// <summary><c>kv_lora_rank</c>: the compressed key/value width cached per token.</summary>
    public int KvLoraRank { get; init; } = 512;

    /// <summary><c>q_lora_rank</c>, or null for an uncompressed query projection (V2-Lite).</summary>
    public int? QLoraRank { get; init; } = 1536;

    /// <summary><c>qk_rope_head_dim</c>.</summary>
    public int QkRopeHeadDim { get; init; } = 64;

    /// <summary><c>v_head_dim</c>.</summary>
    public int VHeadDim { get; init; } = 128;

    /// <summary><c>qk_nope_head_dim</c>.</summary>
    public int QkNopeHeadDim { get; init; } = 128;

    /// <summary><c>topk_method</c>.</summary>
    public TopKMethod TopKMethod { get; init; } = TopKMethod.NoAuxTc;

    /// <summary><c>n_group</c>.</summary>
    public int NGroup { get; init; } = 8;

    /// <summary><c>topk_group</c>.</summary>
    public int TopKGroup { get; init; } = 4;

    /// <summary><c>num_experts_per_tok</c>.</summary>
    public int NumExpertsPerToken { get; init; } = 8;

    /// <summary><c>moe_layer_freq</c>.</summary>
    public int MoeLayerFrequency { get; init; } = 1;

    /// <summary><c>first_k_dense_replace</c>.</summary>
    public int FirstKDenseReplace { get; init; } = 3;

    /// <summary><c>norm_topk_prob</c>.</summary>
    public bool NormTopKProb { get; init; } = true;

    /// <summary><c>scoring_func</c>.</summary>
    public ScoringFunction ScoringFunction { get; init; } = ScoringFunction.Sigmoid;

    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositionEmbeddings { get; init; } = 4096;

    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;

    /// <summary><c>rope_theta</c>.</summary>
    public double RopeTheta { get; init; } = 10000;

    /// <summary><c>rope_scaling</c>, or null.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary><c>tie_word_embeddings</c>: the output projection reuses the embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; }

    /// <summary><c>bos_token_id</c>.</summary>
    public int? BosTokenId { get; init; } = 0;

    /// <summary><c>eos_token_id</c> (one id or several).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [1];

    /// <summary>The FP8 block size of <c>quantization_config.weight_block_size</c>, or null for an unquantised checkpoint.</summary>
    public (int Rows, int Columns)? Fp8BlockSize { get; init; }

    /// <summary>Width of one query/key head: nope + rope.</summary>
    public int QkHeadDim => QkNopeHeadDim + QkRopeHeadDim;

    /// <summary>Experts per group.</summary>
    public int ExpertsPerGroup => NRoutedExperts / NGroup;

    /// <summary>Width of the shared experts taken together.</summary>
    public int SharedIntermediateSize => MoeIntermediateSize * NSharedExperts;

    /// <summary>Whether a layer's MLP is a mixture of experts (otherwise dense).</summary>
    public bool IsMoeLayer(int layer) => layer >= FirstKDenseReplace && layer % MoeLayerFrequency == 0;

    /// <summary>The MoE layers, in order.</summary>
    public IReadOnlyList<int> MoeLayers => [.. Enumerable.Range(0, NumHiddenLayers).Where(IsMoeLayer)];

    /// <summary>
    /// The attention softmax scale: <c>qk_head_dim^-0.5</c>, times mscale² under YaRN with a non-zero
    /// <c>mscale_all_dim</c>.
    /// </summary>
    public double SoftmaxScale
    {
        get
        {
            var scale = 1.0 / Math.Sqrt(QkHeadDim);
            if (RopeScaling is { IsYarn: true, MScaleAllDim: not 0 } yarn)
            {
                var mscale = RopeScaling.YarnMScale(yarn.Factor, yarn.MScaleAllDim);
                scale *= mscale * mscale;
            }

            return scale;
        }
    }

    /// <summary>Reads <c>config.json</c> from a model directory (or the file itself).</summary>
    /// <exception cref="ModelConfigException">The file is missing, not JSON, or a key is wrong; the message names the key.</exception>
    public static ModelConfig Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var file = Directory.Exists(path) ? System.IO.Path.Combine(path, FileName) : path;
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelConfigException(file, null, $"cannot read: {ex.Message}", ex);
        }

        return Parse(text, file);
    }

    /// <summary>Parses the text of a <c>config.json</c>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="ModelConfigException">The text is not a JSON object or a key is wrong; the message names the key.</exception>
    public static ModelConfig Parse(string json, string source = FileName)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false }) as JsonObject
                ?? throw new ModelConfigException(source, null, "must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new ModelConfigException(source, null, $"is not valid JSON: {ex.Message}", ex);
        }

        var reader = new ConfigReader(root, source);
        var defaults = new ModelConfig();
        if (reader.OptionalString("hidden_act") is { } act && act != "silu")
        {
            throw reader.Error("hidden_act", $"\"{act}\" is not supported: DeepSeek models use \"silu\"");
        }

        if (reader.OptionalBool("attention_bias") == true)
        {
            throw reader.Error("attention_bias", "true is not supported: DeepSeek attention projections have no bias");
        }

        var config = new ModelConfig
        {
            VocabSize = reader.Int("vocab_size", defaults.VocabSize),
            HiddenSize = reader.Int("hidden_size", defaults.HiddenSize),
            IntermediateSize = reader.Int("intermediate_size", defaults.IntermediateSize),
            MoeIntermediateSize = reader.Int("moe_intermediate_size", defaults.MoeIntermediateSize),
            NumHiddenLayers = reader.Int("num_hidden_layers", defaults.NumHiddenLayers),
            NumAttentionHeads = reader.Int("num_attention_heads", defaults.NumAttentionHeads),
            NSharedExperts = reader.OptionalInt("n_shared_experts", defaults.NSharedExperts) ?? 0,
            NRoutedExperts = reader.Int("n_routed_experts", defaults.NRoutedExperts),
            RoutedScalingFactor = reader.Double("routed_scaling_factor", defaults.RoutedScalingFactor),
            KvLoraRank = reader.Int("kv_lora_rank", defaults.KvLoraRank),
            QLoraRank = reader.OptionalInt("q_lora_rank", defaults.QLoraRank),
            QkRopeHeadDim = reader.Int("qk_rope_head_dim", defaults.QkRopeHeadDim),
            VHeadDim = reader.Int("v_head_dim", defaults.VHeadDim),
            QkNopeHeadDim = reader.Int("qk_nope_head_dim", defaults.QkNopeHeadDim),
            TopKMethod = reader.OptionalString("topk_method") switch
            {
                null => defaults.TopKMethod,
                "noaux_tc" => TopKMethod.NoAuxTc,
                "greedy" => TopKMethod.Greedy,
                "group_limited_greedy" => TopKMethod.GroupLimitedGreedy,
                var other => throw reader.Error("topk_method", $"\"{other}\" is not one of noaux_tc, greedy, group_limited_greedy"),
            },
            NGroup = reader.OptionalInt("n_group", defaults.NGroup) ?? 1,
            TopKGroup = reader.OptionalInt("topk_group", defaults.TopKGroup) ?? 1,
            NumExpertsPerToken = reader.Int("num_experts_per_tok", defaults.NumExpertsPerToken),
            MoeLayerFrequency = reader.Int("moe_layer_freq", defaults.MoeLayerFrequency),
            FirstKDenseReplace = reader.Int("first_k_dense_replace", defaults.FirstKDenseReplace),
            NormTopKProb = reader.OptionalBool("norm_topk_prob") ?? defaults.NormTopKProb,
            ScoringFunction = reader.OptionalString("scoring_func") switch
            {
                null => defaults.ScoringFunction,
                "sigmoid" => ScoringFunction.Sigmoid,
                "softmax" => ScoringFunction.Softmax,
                var other => throw reader.Error("scoring_func", $"\"{other}\" is not one of sigmoid, softmax"),
            },
            MaxPositionEmbeddings = reader.Int("max_position_embeddings", defaults.MaxPositionEmbeddings),
            RmsNormEps = reader.Double("rms_norm_eps", defaults.RmsNormEps),
            RopeTheta = reader.Double("rope_theta", defaults.RopeTheta),
            RopeScaling = reader.RopeScaling(),
            TieWordEmbeddings = reader.OptionalBool("tie_word_embeddings") ?? false,
            BosTokenId = reader.OptionalInt("bos_token_id", defaults.BosTokenId),
            EosTokenIds = reader.TokenIds("eos_token_id", defaults.EosTokenIds),
            Fp8BlockSize = reader.Fp8BlockSize(),
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Checks the rules that keep the architecture well-formed.</summary>
    /// <exception cref="ModelConfigException">A value is out of range or inconsistent; the message names the key.</exception>
    public void Validate(string source = FileName)
    {
        void Positive(string key, long value)
        {
            if (value <= 0)
            {
                throw new ModelConfigException(source, key, $"must be positive, got {value}");
            }
        }

        Positive("vocab_size", VocabSize);
        Positive("hidden_size", HiddenSize);
        Positive("intermediate_size", IntermediateSize);
        Positive("moe_intermediate_size", MoeIntermediateSize);
        Positive("num_hidden_layers", NumHiddenLayers);
        Positive("num_attention_heads", NumAttentionHeads);
        Positive("n_routed_experts", NRoutedExperts);
        Positive("kv_lora_rank", KvLoraRank);
        Positive("qk_rope_head_dim", QkRopeHeadDim);
        Positive("qk_nope_head_dim", QkNopeHeadDim);
        Positive("v_head_dim", VHeadDim);
        Positive("num_experts_per_tok", NumExpertsPerToken);
        Positive("n_group", NGroup);
        Positive("topk_group", TopKGroup);
        Positive("moe_layer_freq", MoeLayerFrequency);
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        if (QLoraRank is { } qLora)
        {
            Positive("q_lora_rank", qLora);
        }

        if (NSharedExperts < 0)
        {
            throw new ModelConfigException(source, "n_shared_experts", $"must not be negative, got {NSharedExperts}");
        }

        if (QkRopeHeadDim % 2 != 0)
        {
            throw new ModelConfigException(source, "qk_rope_head_dim", $"must be even (rotary embedding turns pairs of dimensions), got {QkRopeHeadDim}");
        }

        if (FirstKDenseReplace < 0 || FirstKDenseReplace > NumHiddenLayers)
        {
            throw new ModelConfigException(source, "first_k_dense_replace", $"must be between 0 and num_hidden_layers ({NumHiddenLayers}), got {FirstKDenseReplace}");
        }

        if (NumExpertsPerToken > NRoutedExperts)
        {
            throw new ModelConfigException(source, "num_experts_per_tok", $"{NumExpertsPerToken} exceeds n_routed_experts ({NRoutedExperts})");
        }

        if (NRoutedExperts % NGroup != 0)
        {
            throw new ModelConfigException(source, "n_group", $"n_routed_experts % n_group != 0: {NRoutedExperts} experts do not split into {NGroup} equal groups");
        }

        if (TopKGroup > NGroup)
        {
            throw new ModelConfigException(source, "topk_group", $"{TopKGroup} exceeds n_group ({NGroup})");
        }

        if (TopKMethod == TopKMethod.NoAuxTc && ExpertsPerGroup < 2)
        {
            throw new ModelConfigException(source, "n_group", $"noaux_tc scores a group by its two best experts, so each group needs at least 2 experts; {NRoutedExperts} experts in {NGroup} groups have {ExpertsPerGroup}");
        }

        if (TopKMethod != TopKMethod.Greedy && NumExpertsPerToken > TopKGroup * ExpertsPerGroup)
        {
            throw new ModelConfigException(source, "num_experts_per_tok", $"{NumExpertsPerToken} exceeds the {TopKGroup * ExpertsPerGroup} experts of the topk_group ({TopKGroup}) groups kept");
        }

        if (!(RoutedScalingFactor > 0) || double.IsInfinity(RoutedScalingFactor))
        {
            throw new ModelConfigException(source, "routed_scaling_factor", $"must be a positive number, got {RoutedScalingFactor.ToString(CultureInfo.InvariantCulture)}");
        }

        if (!(RmsNormEps > 0) || double.IsInfinity(RmsNormEps))
        {
            throw new ModelConfigException(source, "rms_norm_eps", $"must be a positive number, got {RmsNormEps.ToString(CultureInfo.InvariantCulture)}");
        }

        if (!(RopeTheta > 1) || double.IsInfinity(RopeTheta))
        {
            throw new ModelConfigException(source, "rope_theta", $"must be a number above 1, got {RopeTheta.ToString(CultureInfo.InvariantCulture)}");
        }

        if (RopeScaling is { } scaling)
        {
            if (scaling.Type is not ("yarn" or "linear"))
            {
                throw new ModelConfigException(source, "rope_scaling.type", $"\"{scaling.Type}\" is not supported (yarn, linear)");
            }

            if (!(scaling.Factor >= 1) || double.IsInfinity(scaling.Factor))
            {
                throw new ModelConfigException(source, "rope_scaling.factor", $"must be a number of at least 1, got {scaling.Factor.ToString(CultureInfo.InvariantCulture)}");
            }

            if (scaling.OriginalMaxPositionEmbeddings <= 0)
            {
                throw new ModelConfigException(source, "rope_scaling.original_max_position_embeddings", $"must be positive, got {scaling.OriginalMaxPositionEmbeddings}");
            }

            if (!(scaling.BetaFast > scaling.BetaSlow) || !(scaling.BetaSlow > 0))
            {
                throw new ModelConfigException(source, "rope_scaling.beta_fast", $"beta_fast ({scaling.BetaFast.ToString(CultureInfo.InvariantCulture)}) must exceed beta_slow ({scaling.BetaSlow.ToString(CultureInfo.InvariantCulture)}), which must be positive");
            }
        }

        foreach (var (key, id) in EosTokenIds.Select(id => ("eos_token_id", id)).Append(("bos_token_id", BosTokenId ?? 0)))
        {
            if (id < 0 || id >= VocabSize)
            {
                throw new ModelConfigException(source, key, $"{id} is outside the vocabulary (vocab_size {VocabSize})");
            }
        }

        if (Fp8BlockSize is { } block && (block.Rows <= 0 || block.Columns <= 0))
        {
            throw new ModelConfigException(source, "quantization_config.weight_block_size", $"must be two positive numbers, got [{block.Rows}, {block.Columns}]");
        }
    }

    /// <summary>The <c>config.json</c> text of this configuration, in Hugging Face's key names; <see cref="Parse"/> reads it back as equal.</summary>
    /// <param name="indented">One key a line, ending in a newline (a file people read); false writes one compact line.</param>
    public string ToJson(bool indented = true)
    {
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray("DeepseekV3ForCausalLM"),
            ["model_type"] = "deepseek_v3",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["moe_intermediate_size"] = MoeIntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumAttentionHeads,
            ["n_shared_experts"] = NSharedExperts,
            ["n_routed_experts"] = NRoutedExperts,
            ["routed_scaling_factor"] = RoutedScalingFactor,
            ["kv_lora_rank"] = KvLoraRank,
            ["q_lora_rank"] = QLoraRank,
            ["qk_rope_head_dim"] = QkRopeHeadDim,
            ["v_head_dim"] = VHeadDim,
            ["qk_nope_head_dim"] = QkNopeHeadDim,
            ["topk_method"] = TopKMethod switch
            {
                TopKMethod.NoAuxTc => "noaux_tc",
                TopKMethod.Greedy => "greedy",
                _ => "group_limited_greedy",
            },
            ["n_group"] = NGroup,
            ["topk_group"] = TopKGroup,
            ["num_experts_per_tok"] = NumExpertsPerToken,
            ["moe_layer_freq"] = MoeLayerFrequency,
            ["first_k_dense_replace"] = FirstKDenseReplace,
            ["norm_topk_prob"] = NormTopKProb,
            ["scoring_func"] = ScoringFunction == ScoringFunction.Sigmoid ? "sigmoid" : "softmax",
            ["hidden_act"] = "silu",
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = RopeScaling is not { } s ? null : new JsonObject
            {
                ["type"] = s.Type,
                ["factor"] = s.Factor,
                ["original_max_position_embeddings"] = s.OriginalMaxPositionEmbeddings,
                ["beta_fast"] = s.BetaFast,
                ["beta_slow"] = s.BetaSlow,
                ["mscale"] = s.MScale,
                ["mscale_all_dim"] = s.MScaleAllDim,
            },
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenIds.Count == 1 ? EosTokenIds[0] : new JsonArray([.. EosTokenIds.Select(id => (JsonNode)id)]),
            ["attention_bias"] = false,
        };
        if (Fp8BlockSize is { } block)
        {
            root["quantization_config"] = new JsonObject { ["quant_method"] = "fp8", ["weight_block_size"] = new JsonArray(block.Rows, block.Columns) };
        }

        return indented ? root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n" : root.ToJsonString();
    }

    /// <summary>Reads typed values, naming the key in every error.</summary>
    private sealed class ConfigReader(JsonObject root, string source)
    {
        public ModelConfigException Error(string key, string message) => new(source, key, message);

        public int Int(string key, int fallback) =>
            OptionalInt(key, fallback) ?? throw Error(key, "must be an integer, got null");

        public int? OptionalInt(string key, int? fallback) => OptionalInt(root, key, key, fallback);

        public double Double(string key, double fallback) => Number(root, key, key) ?? fallback;

        public bool? OptionalBool(string key) => root[key] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<bool>(out var b) => b,
            var other => throw Error(key, $"must be true or false, got {other.ToJsonString()}"),
        };

        public string? OptionalString(string key) => root[key] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<string>(out var s) => s,
            var other => throw Error(key, $"must be a string, got {other.ToJsonString()}"),
        };

        public IReadOnlyList<int> TokenIds(string key, IReadOnlyList<int> fallback) => root[key] switch
        {
            null => fallback,
            JsonArray array when array.Count > 0 => [.. array.Select((_, i) => OptionalInt(array, i, $"{key}[{i}]") ?? throw Error(key, $"[{i}] must be an integer"))],
            JsonArray => throw Error(key, "must not be an empty list"),
            _ => [Int(key, 0)],
        };

        public RopeScaling? RopeScaling()
        {
            switch (root["rope_scaling"])
            {
                case null:
                    return null;
                case JsonObject scaling:
                    var type = (scaling["type"] ?? scaling["rope_type"]) switch
                    {
                        JsonValue value when value.TryGetValue<string>(out var s) => s,
                        null => throw Error("rope_scaling.type", "is required"),
                        var other => throw Error("rope_scaling.type", $"must be a string, got {other.ToJsonString()}"),
                    };
                    return new RopeScaling(
                        type,
                        Number(scaling, "factor", "rope_scaling.factor") ?? throw Error("rope_scaling.factor", "is required"),
                        OptionalInt(scaling, "original_max_position_embeddings", "rope_scaling.original_max_position_embeddings", 4096) ?? 4096,
                        Number(scaling, "beta_fast", "rope_scaling.beta_fast") ?? 32,
                        Number(scaling, "beta_slow", "rope_scaling.beta_slow") ?? 1,
                        Number(scaling, "mscale", "rope_scaling.mscale") ?? 1,
                        Number(scaling, "mscale_all_dim", "rope_scaling.mscale_all_dim") ?? 0);
                case var other:
                    throw Error("rope_scaling", $"must be an object or null, got {other.ToJsonString()}");
            }
        }

        public (int, int)? Fp8BlockSize()
        {
            if (root["quantization_config"] is not JsonObject quantization)
            {
                return null;
            }

            if (quantization["quant_method"] is JsonValue method && method.TryGetValue<string>(out var name) && name != "fp8")
            {
                throw Error("quantization_config.quant_method", $"\"{name}\" is not supported: only fp8 checkpoints with block scales are");
            }

            return quantization["weight_block_size"] switch
            {
                null => (128, 128),
                JsonArray { Count: 2 } block => (
                    OptionalInt(block, 0, "quantization_config.weight_block_size[0]") ?? throw Error("quantization_config.weight_block_size", "must hold two integers"),
                    OptionalInt(block, 1, "quantization_config.weight_block_size[1]") ?? throw Error("quantization_config.weight_block_size", "must hold two integers")),
                var other => throw Error("quantization_config.weight_block_size", $"must be two integers, got {other.ToJsonString()}"),
            };
        }

        private int? OptionalInt(JsonObject node, string key, string path, int? fallback) =>
            node.ContainsKey(key) ? IntValue(node[key], path) : fallback;

        private int? OptionalInt(JsonArray node, int index, string path) => IntValue(node[index], path);

        private int? IntValue(JsonNode? node, string path)
        {
            switch (node)
            {
                case null:
                    return null;
                case JsonValue value when value.TryGetValue<int>(out var i):
                    return i;
                case JsonValue value when value.TryGetValue<long>(out _):
                    throw Error(path, $"{value.ToJsonString()} is out of range");
                case JsonValue value when value.TryGetValue<double>(out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue:
                    return (int)d;
                default:
                    throw Error(path, $"must be an integer, got {node.ToJsonString()}");
            }
        }

        private double? Number(JsonObject node, string key, string path) => node[key] switch
        {
            null => null,
            JsonValue value when value.TryGetValue<double>(out var d) => d,
            var other => throw Error(path, $"must be a number, got {other.ToJsonString()}"),
        };
    }
}

/// <summary>A model's <c>config.json</c> is unreadable or describes an impossible architecture.</summary>
public sealed class ModelConfigException : Exception
{
    /// <summary>Creates the error for a file and (where one is to blame) a key.</summary>
    public ModelConfigException(string file, string? key, string message, Exception? innerException = null)
        : base(key is null ? $"{file}: {message}" : $"{file}: {key}: {message}", innerException)
    {
        File = file;
        Key = key;
    }

    /// <summary>The configuration file.</summary>
    public string File { get; }

    /// <summary>The key at fault, or null when the file as a whole is.</summary>
    public string? Key { get; }
}
