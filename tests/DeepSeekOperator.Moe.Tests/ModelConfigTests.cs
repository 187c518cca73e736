using System.Text.Json.Nodes;

namespace DeepSeekOperator.Moe.Tests;

public class ModelConfigTests
{
    // The config.json of deepseek-ai/DeepSeek-V3 (the keys the runtime reads).
    private const string DeepSeekV3 = """
        {
          "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "hidden_act": "silu",
          "vocab_size": 129280, "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
          "num_hidden_layers": 61, "num_attention_heads": 128, "num_key_value_heads": 128, "n_shared_experts": 1,
          "n_routed_experts": 256, "routed_scaling_factor": 2.5, "kv_lora_rank": 512, "q_lora_rank": 1536,
          "qk_rope_head_dim": 64, "v_head_dim": 128, "qk_nope_head_dim": 128, "topk_method": "noaux_tc",
          "n_group": 8, "topk_group": 4, "num_experts_per_tok": 8, "moe_layer_freq": 1, "first_k_dense_replace": 3,
          "norm_topk_prob": true, "scoring_func": "sigmoid", "max_position_embeddings": 163840,
          "rms_norm_eps": 1e-06, "rope_theta": 10000, "bos_token_id": 0, "eos_token_id": 1,
          "rope_scaling": { "beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                            "original_max_position_embeddings": 4096, "type": "yarn" },
          "quantization_config": { "activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128] },
          "tie_word_embeddings": false, "attention_bias": false, "num_nextn_predict_layers": 1
        }
        """;

    // The config.json of deepseek-ai/DeepSeek-V2-Lite.
    private const string DeepSeekV2Lite = """
        {
          "architectures": ["DeepseekV2ForCausalLM"], "hidden_act": "silu", "vocab_size": 102400, "hidden_size": 2048,
          "intermediate_size": 10944, "moe_intermediate_size": 1408, "num_hidden_layers": 27, "num_attention_heads": 16,
          "n_shared_experts": 2, "n_routed_experts": 64, "routed_scaling_factor": 1.0, "kv_lora_rank": 512,
          "q_lora_rank": null, "qk_rope_head_dim": 64, "v_head_dim": 128, "qk_nope_head_dim": 128,
          "topk_method": "greedy", "n_group": 1, "topk_group": 1, "num_experts_per_tok": 6, "moe_layer_freq": 1,
          "first_k_dense_replace": 1, "norm_topk_prob": false, "scoring_func": "softmax", "max_position_embeddings": 163840,
          "rms_norm_eps": 1e-06, "rope_theta": 10000, "bos_token_id": 100000, "eos_token_id": 100001,
          "rope_scaling": { "beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707, "mscale_all_dim": 0.707,
                            "original_max_position_embeddings": 4096, "type": "yarn" },
          "tie_word_embeddings": false, "attention_bias": false
        }
        """;

    [Fact]
    public void DeepSeekV3Config_ReadsEveryKey()
    {
        var config = ModelConfig.Parse(DeepSeekV3);

        Assert.Equal(7168, config.HiddenSize);
        Assert.Equal(256, config.NRoutedExperts);
        Assert.Equal(TopKMethod.NoAuxTc, config.TopKMethod);
        Assert.Equal(ScoringFunction.Sigmoid, config.ScoringFunction);
        Assert.Equal(1536, config.QLoraRank);
        Assert.Equal(new RopeScaling("yarn", 40, 4096, 32, 1, 1, 1), config.RopeScaling);
        Assert.Equal((128, 128), config.Fp8BlockSize);
        Assert.Equal(58, config.MoeLayers.Count);
        Assert.False(config.IsMoeLayer(2));
        Assert.True(config.IsMoeLayer(3));
        // qk_head_dim^-0.5 · mscale², mscale = 0.1 · 1 · ln 40 + 1.
        var mscale = (0.1 * Math.Log(40)) + 1;
        Assert.Equal(mscale * mscale / Math.Sqrt(192), config.SoftmaxScale, 12);
    }

    [Fact]
    public void DeepSeekV2LiteConfig_HasNoQueryCompressionAndGreedySoftmaxRouting()
    {
        var config = ModelConfig.Parse(DeepSeekV2Lite);

        Assert.Null(config.QLoraRank);
        Assert.Equal(TopKMethod.Greedy, config.TopKMethod);
        Assert.Equal(ScoringFunction.Softmax, config.ScoringFunction);
        Assert.False(config.NormTopKProb);
        Assert.Equal(2 * 1408, config.SharedIntermediateSize);
        Assert.Equal([100001], config.EosTokenIds);
    }

    [Fact]
    public void MissingKeys_TakeTheDefaultsOfHuggingFaceDeepseekV3Config()
    {
        var config = ModelConfig.Parse("{}");

        var defaults = new ModelConfig();
        Assert.Equal(defaults, config with { EosTokenIds = defaults.EosTokenIds });
        Assert.Equal([1], config.EosTokenIds);
        Assert.Equal(0, config.BosTokenId);
        Assert.Equal(129280, config.VocabSize);
        Assert.Equal(61, config.NumHiddenLayers);
        Assert.Equal(2.5, config.RoutedScalingFactor);
        Assert.Equal(3, config.FirstKDenseReplace);
        Assert.Null(config.RopeScaling);
    }

    [Fact]
    public void ToJson_RoundTrips()
    {
        var config = SyntheticModel.Config(SyntheticPreset.Tiny);

        var reread = ModelConfig.Parse(config.ToJson());

        Assert.Equal(config with { EosTokenIds = [] }, reread with { EosTokenIds = [] });
        Assert.Equal(config.EosTokenIds, reread.EosTokenIds);
    }

    [Fact]
    public void CompactToJson_OfDeepSeekV3_RoundTripsOnOneLineWellUnderATerminationMessage()
    {
        var config = ModelConfig.Parse(DeepSeekV3);

        var json = config.ToJson(indented: false);
        var reread = ModelConfig.Parse(json);

        Assert.DoesNotContain("\n", json, StringComparison.Ordinal);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(json), 1, 2048);
        Assert.Equal(config with { EosTokenIds = [] }, reread with { EosTokenIds = [] });
        Assert.Equal((128, 128), reread.Fp8BlockSize);
        Assert.Equal(config.RopeScaling, reread.RopeScaling);
    }

    [Theory]
    [InlineData("n_routed_experts", 10, "n_group: n_routed_experts % n_group != 0: 10 experts do not split into 8 equal groups")]
    [InlineData("num_experts_per_tok", 300, "num_experts_per_tok: 300 exceeds n_routed_experts (256)")]
    [InlineData("num_experts_per_tok", 200, "num_experts_per_tok: 200 exceeds the 128 experts of the topk_group (4) groups kept")]
    [InlineData("topk_group", 9, "topk_group: 9 exceeds n_group (8)")]
    [InlineData("n_group", 256, "n_group: noaux_tc scores a group by its two best experts")]
    [InlineData("hidden_size", 0, "hidden_size: must be positive, got 0")]
    [InlineData("qk_rope_head_dim", 63, "qk_rope_head_dim: must be even")]
    [InlineData("first_k_dense_replace", 62, "first_k_dense_replace: must be between 0 and num_hidden_layers (61), got 62")]
    [InlineData("eos_token_id", 129280, "eos_token_id: 129280 is outside the vocabulary (vocab_size 129280)")]
    [InlineData("rms_norm_eps", -1, "rms_norm_eps: must be a positive number, got -1")]
    [InlineData("q_lora_rank", 0, "q_lora_rank: must be positive, got 0")]
    public void OutOfRangeValue_IsRejectedNamingTheKey(string key, double value, string message)
    {
        var json = JsonNode.Parse(DeepSeekV3)!.AsObject();
        json[key] = value;

        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json.ToJsonString(), "/models/v3/config.json"));

        Assert.StartsWith("/models/v3/config.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("scoring_func", "\"relu\"", "scoring_func: \"relu\" is not one of sigmoid, softmax")]
    [InlineData("topk_method", "\"random\"", "topk_method: \"random\" is not one of noaux_tc, greedy, group_limited_greedy")]
    [InlineData("hidden_size", "\"big\"", "hidden_size: must be an integer, got \"big\"")]
    [InlineData("hidden_size", "7168.5", "hidden_size: must be an integer, got 7168.5")]
    [InlineData("hidden_size", "99999999999", "hidden_size: 99999999999 is out of range")]
    [InlineData("norm_topk_prob", "\"yes\"", "norm_topk_prob: must be true or false")]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act: \"gelu\" is not supported")]
    [InlineData("rope_scaling", "{\"type\": \"dynamic\", \"factor\": 2}", "rope_scaling.type: \"dynamic\" is not supported (yarn, linear)")]
    [InlineData("rope_scaling", "{\"type\": \"yarn\"}", "rope_scaling.factor: is required")]
    [InlineData("rope_scaling", "{\"type\": \"yarn\", \"factor\": 0.5}", "rope_scaling.factor: must be a number of at least 1")]
    [InlineData("rope_scaling", "{\"type\": \"yarn\", \"factor\": 4, \"beta_fast\": 1, \"beta_slow\": 32}", "rope_scaling.beta_fast: beta_fast (1) must exceed beta_slow (32)")]
    [InlineData("quantization_config", "{\"quant_method\": \"gptq\"}", "quantization_config.quant_method: \"gptq\" is not supported")]
    [InlineData("eos_token_id", "[]", "eos_token_id: must not be an empty list")]
    public void WrongValue_IsRejectedNamingTheKey(string key, string value, string message)
    {
        var json = JsonNode.Parse(DeepSeekV3)!.AsObject();
        json[key] = JsonNode.Parse(value);

        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json.ToJsonString()));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotJson_IsRejectedNamingTheFile()
    {
        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse("{\"hidden_size\": ", "m/config.json"));

        Assert.StartsWith("m/config.json: is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_IsRejectedNamingIt()
    {
        var directory = Directory.CreateTempSubdirectory().FullName;

        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(directory));

        Assert.Contains(Path.Combine(directory, "config.json"), error.Message, StringComparison.Ordinal);
        Directory.Delete(directory);
    }
}
