namespace DeepSeekOperator.Moe.Tests.Reference;

public class RefConfigTests
{
    [Fact]
    public void Parse_EmptyObject_TakesHuggingFaceDeepseekV3Defaults()
    {
        var config = RefConfig.Parse("{}");

        Assert.Equal(RefConfig.Default, config);
        Assert.Equal(129280, config.VocabSize);
        Assert.Equal(7168, config.HiddenSize);
        Assert.Equal(18432, config.IntermediateSize);
        Assert.Equal(2048, config.MoeIntermediateSize);
        Assert.Equal(61, config.NumHiddenLayers);
        Assert.Equal(128, config.NumAttentionHeads);
        Assert.Equal(1, config.NSharedExperts);
        Assert.Equal(256, config.NRoutedExperts);
        Assert.Equal(2.5, config.RoutedScalingFactor);
        Assert.Equal(512, config.KvLoraRank);
        Assert.Equal(1536, config.QLoraRank);
        Assert.Equal(64, config.QkRopeHeadDim);
        Assert.Equal(128, config.VHeadDim);
        Assert.Equal(128, config.QkNopeHeadDim);
        Assert.Equal("noaux_tc", config.TopkMethod);
        Assert.Equal(8, config.NGroup);
        Assert.Equal(4, config.TopkGroup);
        Assert.Equal(8, config.NumExpertsPerTok);
        Assert.Equal(1, config.MoeLayerFreq);
        Assert.Equal(3, config.FirstKDenseReplace);
        Assert.True(config.NormTopkProb);
        Assert.Equal("sigmoid", config.ScoringFunc);
        Assert.Equal(4096, config.MaxPositionEmbeddings);
        Assert.Equal(1e-6, config.RmsNormEps);
        Assert.Equal(10000, config.RopeTheta);
        Assert.Null(config.RopeScaling);
        Assert.False(config.TieWordEmbeddings);
    }

    [Fact]
    public void Parse_DeepSeekV2LiteKeys_ReadsEveryValue()
    {
        const string json = """
            {
              "vocab_size": 102400, "hidden_size": 2048, "intermediate_size": 10944, "moe_intermediate_size": 1408,
              "num_hidden_layers": 27, "num_attention_heads": 16, "n_shared_experts": 2, "n_routed_experts": 64,
              "routed_scaling_factor": 1.0, "kv_lora_rank": 512, "q_lora_rank": null, "qk_rope_head_dim": 64,
              "v_head_dim": 128, "qk_nope_head_dim": 128, "topk_method": "greedy", "n_group": 1, "topk_group": 1,
              "num_experts_per_tok": 6, "moe_layer_freq": 1, "first_k_dense_replace": 1, "norm_topk_prob": false,
              "scoring_func": "softmax", "max_position_embeddings": 163840, "rms_norm_eps": 1e-06, "rope_theta": 10000,
              "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 0.707, "mscale_all_dim": 0.707,
                               "original_max_position_embeddings": 4096, "type": "yarn"},
              "tie_word_embeddings": false
            }
            """;

        var config = RefConfig.Parse(json);

        Assert.Equal(102400, config.VocabSize);
        Assert.Equal(2048, config.HiddenSize);
        Assert.Equal(10944, config.IntermediateSize);
        Assert.Equal(1408, config.MoeIntermediateSize);
        Assert.Equal(27, config.NumHiddenLayers);
        Assert.Equal(16, config.NumAttentionHeads);
        Assert.Equal(2, config.NSharedExperts);
        Assert.Equal(64, config.NRoutedExperts);
        Assert.Equal(1.0, config.RoutedScalingFactor);
        Assert.Null(config.QLoraRank);
        Assert.Equal("greedy", config.TopkMethod);
        Assert.Equal(6, config.NumExpertsPerTok);
        Assert.Equal(1, config.FirstKDenseReplace);
        Assert.False(config.NormTopkProb);
        Assert.Equal("softmax", config.ScoringFunc);
        Assert.Equal(163840, config.MaxPositionEmbeddings);
        Assert.Equal(
            new RefRopeScaling { Factor = 40, OriginalMaxPositionEmbeddings = 4096, BetaFast = 32, BetaSlow = 1, Mscale = 0.707, MscaleAllDim = 0.707 },
            config.RopeScaling);
    }

    [Fact]
    public void Parse_RopeTypeKeyAndOnlyFactor_DefaultsTheRestAsHuggingFace()
    {
        var config = RefConfig.Parse("""{"rope_scaling": {"rope_type": "yarn", "factor": 8}}""");

        Assert.Equal(new RefRopeScaling { Factor = 8, OriginalMaxPositionEmbeddings = 4096, BetaFast = 32, BetaSlow = 1, Mscale = 1, MscaleAllDim = 0 }, config.RopeScaling);
    }

    [Fact]
    public void Parse_TieWordEmbeddingsAndNullSharedExperts_AreRead()
    {
        var config = RefConfig.Parse("""{"tie_word_embeddings": true, "n_shared_experts": null}""");

        Assert.True(config.TieWordEmbeddings);
        Assert.Null(config.NSharedExperts);
    }

    [Theory]
    [InlineData("""{"hidden_size": "64"}""", "hidden_size")]
    [InlineData("""{"hidden_size": 64.5}""", "hidden_size")]
    [InlineData("""{"q_lora_rank": true}""", "q_lora_rank")]
    [InlineData("""{"norm_topk_prob": 1}""", "norm_topk_prob")]
    [InlineData("""{"rope_theta": null}""", "rope_theta")]
    [InlineData("""{"topk_method": "top1"}""", "topk_method")]
    [InlineData("""{"scoring_func": "relu"}""", "scoring_func")]
    [InlineData("""{"n_routed_experts": 250}""", "n_group")]
    [InlineData("""{"topk_group": 9}""", "topk_group")]
    [InlineData("""{"num_experts_per_tok": 129}""", "num_experts_per_tok")]
    [InlineData("""{"qk_rope_head_dim": 63}""", "qk_rope_head_dim")]
    [InlineData("""{"vocab_size": 0}""", "vocab_size")]
    [InlineData("""{"rope_scaling": {"type": "linear", "factor": 2}}""", "rope_scaling.type")]
    [InlineData("""{"rope_scaling": {"type": "yarn"}}""", "rope_scaling.factor")]
    [InlineData("""{"rope_scaling": {"type": "yarn", "factor": 0}}""", "rope_scaling.factor")]
    [InlineData("""{"rope_scaling": 4}""", "rope_scaling")]
    public void Parse_BadValue_NamesSourceAndKey(string json, string key)
    {
        var error = Assert.Throws<InvalidDataException>(() => RefConfig.Parse(json, "/models/tiny/config.json"));

        Assert.Contains("/models/tiny/config.json", error.Message, StringComparison.Ordinal);
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsMoeLayer_FirstKDenseAndFrequency_SelectsLayers()
    {
        var config = RefConfig.Default with { FirstKDenseReplace = 1, MoeLayerFreq = 2 };

        Assert.Equal([false, false, true, false, true], Enumerable.Range(0, 5).Select(config.IsMoeLayer));
        Assert.False((config with { NRoutedExperts = null }).IsMoeLayer(2));
    }

    [Fact]
    public void Load_MissingFile_NamesThePath()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "config.json");

        var error = Assert.Throws<FileNotFoundException>(() => RefConfig.Load(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
