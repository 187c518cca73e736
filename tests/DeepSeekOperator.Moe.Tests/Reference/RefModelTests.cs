using System.Text;

namespace DeepSeekOperator.Moe.Tests.Reference;

public class RefModelTests
{
    private static readonly int[] Prompt = [1, 17, 255, 3, 511, 42, 42, 0, 300, 7, 128, 64];

    [Fact]
    public void Logits_TinyModel_HaveShapeTokensByVocabAndAreFinite()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        var model = RefModel.Load(directory.Path);

        var logits = model.Logits(Prompt);

        Assert.Equal(Prompt.Length, logits.Length);
        Assert.All(logits, row => Assert.Equal(512, row.Length));
        Assert.All(logits, row => Assert.All(row, value => Assert.True(double.IsFinite(value), $"logit {value}")));
        // Random weights still give distinct logits per position (the model is not degenerate).
        Assert.NotEqual(logits[0], logits[1]);
    }

    [Fact]
    public void Logits_AtPositionT_DoNotDependOnLaterTokens()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        var model = RefModel.Load(directory.Path);
        var changed = Prompt.ToArray();
        for (var t = 6; t < changed.Length; t++)
        {
            changed[t] = (changed[t] + 101) % 512;
        }

        var original = model.Logits(Prompt);
        var altered = model.Logits(changed);

        for (var t = 0; t < 6; t++)
        {
            Assert.Equal(original[t], altered[t]);
        }

        for (var t = 6; t < Prompt.Length; t++)
        {
            Assert.NotEqual(original[t], altered[t]);
        }
    }

    [Fact]
    public void Logits_OfAPrefix_EqualTheFirstRowsOfTheWholePrompt()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        var model = RefModel.Load(directory.Path);

        var whole = model.Logits(Prompt);
        var prefix = model.Logits(Prompt[..5]);

        Assert.Equal(whole[..5], prefix);
    }

    [Fact]
    public void Logits_TiedEmbeddings_ProjectOntoTheEmbeddingRows()
    {
        using var directory = new TempDirectory();
        var config = TinyCheckpoint.Config();
        config["tie_word_embeddings"] = true;
        TinyCheckpoint.Write(directory.Path, config);
        var model = RefModel.Load(directory.Path);

        var logits = model.Logits(Prompt[..3]);
        var hidden = model.FinalHidden(Prompt[..3]);
        var embedding = model.Weight("model.embed_tokens.weight");

        foreach (var (t, token) in new[] { (0, 0), (1, 511), (2, 77) })
        {
            Assert.Equal(RefMath.Dot(hidden[t], embedding.AsSpan(token * 64, 64)), logits[t][token], 1e-12);
        }
    }

    [Fact]
    public void Logits_WithoutQLora_UseQProjAndStayFinite()
    {
        using var directory = new TempDirectory();
        var config = TinyCheckpoint.Config();
        config["q_lora_rank"] = null;
        TinyCheckpoint.Write(directory.Path, config);
        var model = RefModel.Load(directory.Path);

        var logits = model.Logits(Prompt);

        // 4 heads of 16 nope + 16 rope.
        Assert.Equal([128L, 64L], model.Shape("model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal(Prompt.Length, logits.Length);
        Assert.All(logits, row => Assert.All(row, value => Assert.True(double.IsFinite(value))));
    }

    [Fact]
    public void Attention_ZeroQueries_AverageTheValuesOfEveryEarlierToken()
    {
        // With q_b_proj = 0 every score is 0, so position t attends uniformly to positions 0..t: the output is
        // o_proj(mean of the values), each value being the head's slice of kv_b_proj(kv_a_layernorm(c_kv)).
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config(), edit: (name, values) =>
            name == "model.layers.1.self_attn.q_b_proj.weight" ? new float[values.Length] : values);
        var model = RefModel.Load(directory.Path);
        var x = RandomSequence(5, 64, seed: 3);
        const string p = "model.layers.1.self_attn.";

        var output = model.Attention(1, x);

        var values = x.Select(row =>
        {
            var compressed = RefMath.Linear(row, model.Weight(p + "kv_a_proj_with_mqa.weight"));
            var latent = RefMath.RmsNorm(compressed[..32], model.Weight(p + "kv_a_layernorm.weight"), 1e-6);
            var kv = RefMath.Linear(latent, model.Weight(p + "kv_b_proj.weight"));
            // 4 heads of [k_nope 16 | v 16]: keep the v halves.
            return Enumerable.Range(0, 4).SelectMany(h => kv.Skip((h * 32) + 16).Take(16)).ToArray();
        }).ToArray();
        for (var t = 0; t < x.Length; t++)
        {
            var mean = new double[64];
            for (var s = 0; s <= t; s++)
            {
                for (var i = 0; i < 64; i++)
                {
                    mean[i] += values[s][i] / (t + 1);
                }
            }

            AssertClose(RefMath.Linear(mean, model.Weight(p + "o_proj.weight")), output[t], 1e-12);
        }
    }

    [Fact]
    public void Attention_SecondToken_WeighsBothValuesBySoftmaxOfScaledScores()
    {
        // Spelled out for head layout: q head h = q_b(q_a_layernorm(q_a(x)))[32h .. 32h+32] = [nope 16 | rope 16];
        // kv_a(x) = [c_kv 32 | k_pe 16]; kv_b(kv_a_layernorm(c_kv)) head h = [k_nope 16 | v 16]; the rope halves are
        // rotated at their position; score = q·k · 32^-0.5 · mscale(4, 1)².
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        var model = RefModel.Load(directory.Path);
        var x = RandomSequence(2, 64, seed: 11);
        const string p = "model.layers.0.self_attn.";
        var frequencies = RefRotary.InverseFrequencies(16, 10000, new RefRopeScaling { Factor = 4, OriginalMaxPositionEmbeddings = 64, Mscale = 1, MscaleAllDim = 1 });
        var mscale = (0.1 * Math.Log(4)) + 1;
        var scale = mscale * mscale / Math.Sqrt(32);

        var q = RefMath.Linear(RefMath.RmsNorm(RefMath.Linear(x[1], model.Weight(p + "q_a_proj.weight")), model.Weight(p + "q_a_layernorm.weight"), 1e-6),
            model.Weight(p + "q_b_proj.weight"));
        var keys = new double[2][];
        var kvs = new double[2][];
        for (var s = 0; s < 2; s++)
        {
            var compressed = RefMath.Linear(x[s], model.Weight(p + "kv_a_proj_with_mqa.weight"));
            kvs[s] = RefMath.Linear(RefMath.RmsNorm(compressed[..32], model.Weight(p + "kv_a_layernorm.weight"), 1e-6), model.Weight(p + "kv_b_proj.weight"));
            keys[s] = RefRotary.Rotate(compressed.AsSpan(32), s, frequencies);
        }

        var attended = new double[64];
        for (var h = 0; h < 4; h++)
        {
            var qNope = q.AsSpan(h * 32, 16).ToArray();
            var qPe = RefRotary.Rotate(q.AsSpan((h * 32) + 16, 16), 1, frequencies);
            var scores = Enumerable.Range(0, 2)
                .Select(s => (RefMath.Dot(qNope, kvs[s].AsSpan(h * 32, 16)) + RefMath.Dot(qPe, keys[s])) * scale)
                .ToArray();
            var weights = RefMath.Softmax(scores);
            for (var j = 0; j < 16; j++)
            {
                attended[(h * 16) + j] = (weights[0] * kvs[0][(h * 32) + 16 + j]) + (weights[1] * kvs[1][(h * 32) + 16 + j]);
            }
        }

        var output = model.Attention(0, x);

        AssertClose(RefMath.Linear(attended, model.Weight(p + "o_proj.weight")), output[1], 1e-12);
    }

    [Fact]
    public void Route_TinyModel_PicksDistinctExpertsFromAtMostTopkGroupGroupsWithWeightsSummingToScale()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        var model = RefModel.Load(directory.Path);

        var routings = model.Route(2, RandomSequence(12, 64, seed: 5));

        Assert.All(routings, routing =>
        {
            Assert.Equal(4, routing.Experts.Length);
            Assert.Equal(4, routing.Experts.Distinct().Count());
            Assert.True(routing.Experts.Select(e => e / 4).Distinct().Count() <= 2, string.Join(",", routing.Experts));
            Assert.Equal(2.5, routing.Weights.Sum(), 1e-12);
        });
    }

    [Fact]
    public void Moe_IdenticalExperts_EqualScalingFactorTimesExpertPlusShared()
    {
        // When all 16 routed experts are the same function f, Σ weights·f(x) = routed_scaling_factor·f(x) (weights
        // are normalised), whichever experts the gate picks.
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config(), edit: (name, values) =>
            name.Contains(".mlp.experts.", StringComparison.Ordinal)
                ? SameForEveryExpert(name, values.Length)
                : values);
        var model = RefModel.Load(directory.Path);
        var x = RandomSequence(3, 64, seed: 9);
        const string p = "model.layers.3.mlp.";

        var output = model.Moe(3, x);

        for (var t = 0; t < x.Length; t++)
        {
            var routed = RefExpert.Forward(x[t], model.Weight(p + "experts.5.gate_proj.weight"), model.Weight(p + "experts.5.up_proj.weight"),
                model.Weight(p + "experts.5.down_proj.weight"), 32);
            var shared = RefExpert.Forward(x[t], model.Weight(p + "shared_experts.gate_proj.weight"), model.Weight(p + "shared_experts.up_proj.weight"),
                model.Weight(p + "shared_experts.down_proj.weight"), 32);
            AssertClose([.. routed.Select((r, i) => (2.5 * r) + shared[i])], output[t], 1e-12);
        }
    }

    [Fact]
    public void IsMoeLayer_TinyModel_FirstLayerDenseRestMoe()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        var model = RefModel.Load(directory.Path);

        Assert.Equal([false, true, true, true], Enumerable.Range(0, 4).Select(model.IsMoeLayer));
        Assert.Throws<ArgumentException>(() => model.DenseMlp(1, RandomSequence(1, 64, seed: 1)));
        Assert.Throws<ArgumentException>(() => model.Moe(0, RandomSequence(1, 64, seed: 1)));
    }

    [Fact]
    public void Logits_TokenOutsideVocabulary_NamesTokenAndPosition()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        var model = RefModel.Load(directory.Path);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Logits([1, 512]));

        Assert.Contains("token 512 at position 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingTensor_NamesIt()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config(), edit: (name, values) =>
            name == "model.layers.2.mlp.experts.13.up_proj.weight" ? null : values);

        var error = Assert.Throws<KeyNotFoundException>(() => RefModel.Load(directory.Path));

        Assert.Contains("model.layers.2.mlp.experts.13.up_proj.weight", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TensorShapeDisagreesWithConfig_NamesTensorAndShapes()
    {
        using var directory = new TempDirectory();
        var config = TinyCheckpoint.Config();
        TinyCheckpoint.Write(directory.Path, config);
        config["kv_lora_rank"] = 24;
        File.WriteAllText(Path.Combine(directory.Path, "config.json"), System.Text.Json.JsonSerializer.Serialize(config));

        var error = Assert.Throws<InvalidDataException>(() => RefModel.Load(directory.Path));

        Assert.Contains("model.layers.0.self_attn.kv_a_proj_with_mqa.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("[48, 64]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[40, 64]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TruncatedFile_NamesTheTensorPastTheEnd()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        var file = Path.Combine(directory.Path, "model.safetensors");
        using (var stream = File.OpenWrite(file))
        {
            stream.SetLength(stream.Length - 10);
        }

        var error = Assert.Throws<InvalidDataException>(() => RefModel.Load(directory.Path));

        // lm_head.weight is the last tensor written.
        Assert.Contains("lm_head.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoWeightsFile_SaysWhichFilesWereExpected()
    {
        using var directory = new TempDirectory();
        TinyCheckpoint.Write(directory.Path, TinyCheckpoint.Config());
        File.Delete(Path.Combine(directory.Path, "model.safetensors"));

        var error = Assert.Throws<FileNotFoundException>(() => RefModel.Load(directory.Path));

        Assert.Contains("model.safetensors.index.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Safetensors_Bf16AndF16_ReadAsTheirExactValues()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "t.safetensors");
        RefSafetensorsWriter.Write(path,
        [
            new TensorToWrite("a", [3], [1.0f, -2.5f, 3.14159f], "BF16"),
            new TensorToWrite("b", [2, 1], [0.1f, -65504f], "F16"),
            new TensorToWrite("c", [1], [0.1f]),
        ]);

        var file = RefSafetensors.Open(path);

        // bfloat16 keeps 8 significant bits: 3.14159 → 201/64 = 3.140625. float16 rounds 0.1 to 0.0999755859375.
        Assert.Equal([1.0, -2.5, 3.140625], file.Read("a"));
        Assert.Equal([0.0999755859375, -65504], file.Read("b"));
        Assert.Equal([(double)0.1f], file.Read("c"));
        Assert.Equal([2L, 1L], file.Tensors["b"].Shape);
    }

    [Fact]
    public void Safetensors_UnsupportedDtype_NamesTensorAndDtype()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "t.safetensors");
        RefSafetensorsWriter.Write(path, [new TensorToWrite("model.norm.weight", [2], [1, 2])]);
        // I32 has the size of F32, so only the dtype changes.
        var bytes = File.ReadAllBytes(path);
        var text = Encoding.Latin1.GetString(bytes).Replace("\"F32\"", "\"I32\"", StringComparison.Ordinal);
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text));

        var error = Assert.Throws<NotSupportedException>(() => RefSafetensors.Open(path).Read("model.norm.weight"));

        Assert.Contains("model.norm.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("I32", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Safetensors_OffsetsDisagreeWithShape_NamesTensor()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "t.safetensors");
        RefSafetensorsWriter.Write(path, [new TensorToWrite("w", [2], [1, 2])]);
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(path)).Replace("\"shape\":[2]", "\"shape\":[3]", StringComparison.Ordinal);
        File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text));

        var error = Assert.Throws<InvalidDataException>(() => RefSafetensors.Open(path));

        Assert.Contains("tensor w", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Values that depend only on which projection (gate, up, down) the tensor is, not on the expert index.</summary>
    private static float[] SameForEveryExpert(string name, int count)
    {
        var phase = name.EndsWith("gate_proj.weight", StringComparison.Ordinal) ? 0.0 : name.EndsWith("up_proj.weight", StringComparison.Ordinal) ? 1.0 : 2.0;
        return [.. Enumerable.Range(0, count).Select(i => (float)(0.2 * Math.Sin((i * 0.37) + phase)))];
    }

    private static double[][] RandomSequence(int tokens, int width, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, tokens).Select(_ => Enumerable.Range(0, width).Select(_ => (random.NextDouble() * 2) - 1).ToArray())];
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
