using System.Globalization;
using System.Text.Json;

namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>A directory under the temporary folder, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    /// <summary>Creates a fresh, empty directory.</summary>
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dsop-ref-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless.
        }
    }
}

/// <summary>
/// Writes a tiny random DeepSeek-V3 checkpoint (config.json + model.safetensors, F32) with the tensor shapes spelled
/// out here, independently of <see cref="RefModel"/>'s own list.
/// </summary>
internal static class TinyCheckpoint
{
    /// <summary>hidden 64, 4 layers (the first dense), vocab 512, 16 experts in 4 groups, 4 per token, YaRN.</summary>
    public static Dictionary<string, object?> Config() => new()
    {
        ["architectures"] = new[] { "DeepseekV3ForCausalLM" },
        ["model_type"] = "deepseek_v3",
        ["vocab_size"] = 512,
        ["hidden_size"] = 64,
        ["intermediate_size"] = 128,
        ["moe_intermediate_size"] = 32,
        ["num_hidden_layers"] = 4,
        ["num_attention_heads"] = 4,
        ["n_shared_experts"] = 1,
        ["n_routed_experts"] = 16,
        ["routed_scaling_factor"] = 2.5,
        ["kv_lora_rank"] = 32,
        ["q_lora_rank"] = 48,
        ["qk_rope_head_dim"] = 16,
        ["v_head_dim"] = 16,
        ["qk_nope_head_dim"] = 16,
        ["topk_method"] = "noaux_tc",
        ["n_group"] = 4,
        ["topk_group"] = 2,
        ["num_experts_per_tok"] = 4,
        ["moe_layer_freq"] = 1,
        ["first_k_dense_replace"] = 1,
        ["norm_topk_prob"] = true,
        ["scoring_func"] = "sigmoid",
        ["max_position_embeddings"] = 256,
        ["rms_norm_eps"] = 1e-6,
        ["rope_theta"] = 10000.0,
        ["rope_scaling"] = new Dictionary<string, object?>
        {
            ["type"] = "yarn",
            ["factor"] = 4.0,
            ["original_max_position_embeddings"] = 64,
            ["beta_fast"] = 32,
            ["beta_slow"] = 1,
            ["mscale"] = 1.0,
            ["mscale_all_dim"] = 1.0,
        },
        ["tie_word_embeddings"] = false,
    };

    /// <summary>
    /// Writes <paramref name="config"/> and random weights drawn from <paramref name="seed"/> into
    /// <paramref name="directory"/>. <paramref name="edit"/> may replace a tensor's values, or drop it by returning null.
    /// </summary>
    public static void Write(string directory, Dictionary<string, object?> config, int seed = 1, Func<string, float[], float[]?>? edit = null)
    {
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config));
        var random = new Random(seed);
        var tensors = new List<TensorToWrite>();
        foreach (var (name, shape, kind) in Tensors(config))
        {
            var count = shape.Aggregate(1L, (product, dimension) => product * dimension);
            var values = new float[count];
            for (var i = 0; i < values.Length; i++)
            {
                var u = (random.NextDouble() * 2) - 1;
                values[i] = kind switch
                {
                    Kind.Norm => (float)(1 + (0.2 * u)),
                    Kind.Bias => (float)(0.1 * u),
                    Kind.Embedding => (float)u,
                    _ => (float)(u * Math.Sqrt(3.0 / shape[1])),
                };
            }

            var edited = edit is null ? values : edit(name, values);
            if (edited is not null)
            {
                tensors.Add(new TensorToWrite(name, shape, edited));
            }
        }

        RefSafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors);
    }

    private enum Kind
    {
        Linear,
        Norm,
        Bias,
        Embedding,
    }

    private static IEnumerable<(string Name, long[] Shape, Kind Kind)> Tensors(Dictionary<string, object?> config)
    {
        long Int(string key) => Convert.ToInt64(config[key], CultureInfo.InvariantCulture);
        long? NullableInt(string key) => config.TryGetValue(key, out var value) && value is not null ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : null;

        long vocab = Int("vocab_size"), h = Int("hidden_size"), heads = Int("num_attention_heads");
        long nope = Int("qk_nope_head_dim"), rope = Int("qk_rope_head_dim"), v = Int("v_head_dim"), kvLora = Int("kv_lora_rank");
        var qLora = NullableInt("q_lora_rank");
        var shared = NullableInt("n_shared_experts");
        long experts = Int("n_routed_experts"), moeWidth = Int("moe_intermediate_size");

        yield return ("model.embed_tokens.weight", [vocab, h], Kind.Embedding);
        for (var layer = 0; layer < Int("num_hidden_layers"); layer++)
        {
            var p = $"model.layers.{layer}.";
            yield return (p + "input_layernorm.weight", [h], Kind.Norm);
            if (qLora is { } q)
            {
                yield return (p + "self_attn.q_a_proj.weight", [q, h], Kind.Linear);
                yield return (p + "self_attn.q_a_layernorm.weight", [q], Kind.Norm);
                yield return (p + "self_attn.q_b_proj.weight", [heads * (nope + rope), q], Kind.Linear);
            }
            else
            {
                yield return (p + "self_attn.q_proj.weight", [heads * (nope + rope), h], Kind.Linear);
            }

            yield return (p + "self_attn.kv_a_proj_with_mqa.weight", [kvLora + rope, h], Kind.Linear);
            yield return (p + "self_attn.kv_a_layernorm.weight", [kvLora], Kind.Norm);
            yield return (p + "self_attn.kv_b_proj.weight", [heads * (nope + v), kvLora], Kind.Linear);
            yield return (p + "self_attn.o_proj.weight", [h, heads * v], Kind.Linear);
            yield return (p + "post_attention_layernorm.weight", [h], Kind.Norm);

            if (layer < Int("first_k_dense_replace") || layer % Int("moe_layer_freq") != 0)
            {
                foreach (var mlp in Mlp(p + "mlp.", h, Int("intermediate_size")))
                {
                    yield return mlp;
                }

                continue;
            }

            yield return (p + "mlp.gate.weight", [experts, h], Kind.Linear);
            if ((string?)config["topk_method"] == "noaux_tc")
            {
                yield return (p + "mlp.gate.e_score_correction_bias", [experts], Kind.Bias);
            }

            for (var e = 0; e < experts; e++)
            {
                foreach (var mlp in Mlp($"{p}mlp.experts.{e}.", h, moeWidth))
                {
                    yield return mlp;
                }
            }

            if (shared is > 0)
            {
                foreach (var mlp in Mlp(p + "mlp.shared_experts.", h, moeWidth * shared.Value))
                {
                    yield return mlp;
                }
            }
        }

        yield return ("model.norm.weight", [h], Kind.Norm);
        if (!(config.TryGetValue("tie_word_embeddings", out var tied) && tied is true))
        {
            yield return ("lm_head.weight", [vocab, h], Kind.Linear);
        }
    }

    private static IEnumerable<(string Name, long[] Shape, Kind Kind)> Mlp(string prefix, long h, long intermediate)
    {
        yield return (prefix + "gate_proj.weight", [intermediate, h], Kind.Linear);
        yield return (prefix + "up_proj.weight", [intermediate, h], Kind.Linear);
        yield return (prefix + "down_proj.weight", [h, intermediate], Kind.Linear);
    }
}
