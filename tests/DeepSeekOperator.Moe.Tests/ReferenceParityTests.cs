using DeepSeekOperator.Moe.Internal;
using DeepSeekOperator.Moe.Tests.Reference;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Tests;

/// <summary>
/// The TorchSharp runtime against the independent float64 reference: the gate, one expert, MLA attention with
/// YaRN, an MoE layer with shared experts, and a whole model's logits. Error is measured as the largest absolute
/// difference over the largest reference magnitude: at most 1e-4 in float32 and 2e-2 in bfloat16.
/// </summary>
public sealed class ReferenceParityTests : IDisposable
{
    private const double Float32Tolerance = 1e-4;
    private const double BFloat16Tolerance = 2e-2;
    private static readonly int[] Prompt = [256, 84, 104, 101, 32, 113, 117, 105, 99, 107, 32, 98, 114, 111, 119, 110];

    private readonly List<TempDirectory> _directories = [];

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            directory.Dispose();
        }
    }

    /// <summary>Writes a synthetic model with the tests' own safetensors writer, so the runtime's writer is not trusted here.</summary>
    private string Checkpoint(ModelConfig config, int seed = 7, string dtype = "F32")
    {
        var directory = new TempDirectory();
        _directories.Add(directory);
        File.WriteAllText(Path.Combine(directory.Path, "config.json"), config.ToJson());
        RefSafetensorsWriter.Write(
            Path.Combine(directory.Path, "model.safetensors"),
            ModelTensors.Expected(config).Select(spec => new TensorToWrite(spec.Name, [.. spec.Shape], SyntheticModel.Values(spec, seed), spec.Kind == TensorKind.Gate ? "F32" : dtype)));
        return directory.Path;
    }

    private static MoeModel Runtime(string directory, ScalarType dtype)
    {
        var reference = RefModel.Load(directory);
        var config = ModelConfig.Load(directory);
        var weights = ModelTensors.Expected(config).ToDictionary(
            spec => spec.Name,
            spec => tensor(reference.Weight(spec.Name).Select(v => (float)v).ToArray(), [.. spec.Shape], ScalarType.Float32));
        return MoeModel.FromWeights(config, weights, dtype, CPU);
    }

    private static ModelConfig WithoutQueryCompression => SyntheticModel.Config(SyntheticPreset.Tiny) with { QLoraRank = null, RopeScaling = null };

    public static TheoryData<string, string, bool> GateMethods => new()
    {
        { "noaux_tc", "sigmoid", true },
        { "noaux_tc", "sigmoid", false },
        { "greedy", "softmax", false },
        { "greedy", "softmax", true },
        { "group_limited_greedy", "softmax", false },
        { "group_limited_greedy", "softmax", true },
    };

    [Theory]
    [MemberData(nameof(GateMethods))]
    public void Gate_RandomScoresWithNegativeBiasedScores_MatchesReference(string method, string scoring, bool normalise)
    {
        var (config, reference) = GateConfigs(method, scoring, normalise, experts: 16, groups: 4, keptGroups: 2, perToken: 4);
        var random = new Random(17);
        double[] Values(int n, double scale, double shift = 0) => [.. Enumerable.Range(0, n).Select(_ => ((random.NextDouble() * 2) - 1) * scale + shift)];
        const int tokens = 64, hiddenSize = 24;
        var hidden = Values(tokens * hiddenSize, 1);
        var weight = Values(16 * hiddenSize, 0.5);
        // Biases around -1 push every biased sigmoid score below zero: a 0.0 fill for dropped groups would win.
        var bias = method == "noaux_tc" ? Values(16, 0.2, -1.0) : null;

        var actual = Route(config, hidden, weight, bias, tokens);

        for (var t = 0; t < tokens; t++)
        {
            var expected = RefGate.Route(reference, hidden[(t * hiddenSize)..((t + 1) * hiddenSize)], weight, bias);
            Assert.Equal(expected.Experts, actual[t].Experts);
            AssertClose(expected.Weights, actual[t].Weights, Float32Tolerance);
        }
    }

    [Fact]
    public void Gate_TiedScores_GoToTheLowerGroupAndExpert()
    {
        foreach (var (method, scoring) in new[] { ("noaux_tc", "sigmoid"), ("greedy", "softmax"), ("group_limited_greedy", "softmax") })
        {
            var (config, reference) = GateConfigs(method, scoring, true, experts: 8, groups: 4, keptGroups: 2, perToken: 2);
            // Zero hidden states give every expert the same score; the bias ties groups 1 and 3 and experts within them.
            var hidden = new double[4];
            var weight = new double[8 * 4];
            double[]? bias = method == "noaux_tc" ? [0, 0, 0.1, 0.1, 0, 0, 0.1, 0.1] : null;

            var actual = Route(config, hidden, weight, bias, 1)[0];
            var expected = RefGate.Route(reference, hidden, weight, bias);

            Assert.Equal(expected.Experts, actual.Experts);
            Assert.Equal(method == "noaux_tc" ? [2, 3] : [0, 1], actual.Experts);
            AssertClose(expected.Weights, actual.Weights, Float32Tolerance);
        }
    }

    private static (ModelConfig Config, RefConfig Reference) GateConfigs(string method, string scoring, bool normalise, int experts, int groups, int keptGroups, int perToken)
    {
        var reference = RefConfig.Default with
        {
            NRoutedExperts = experts,
            NGroup = groups,
            TopkGroup = keptGroups,
            NumExpertsPerTok = perToken,
            TopkMethod = method,
            ScoringFunc = scoring,
            NormTopkProb = normalise,
            RoutedScalingFactor = 2.5,
        };
        var config = ModelConfig.Parse($$"""
            { "n_routed_experts": {{experts}}, "n_group": {{groups}}, "topk_group": {{keptGroups}}, "num_experts_per_tok": {{perToken}},
              "topk_method": "{{method}}", "scoring_func": "{{scoring}}", "norm_topk_prob": {{(normalise ? "true" : "false")}}, "routed_scaling_factor": 2.5 }
            """);
        return (config, reference);
    }

    private static RefRouting[] Route(ModelConfig config, double[] hidden, double[] weight, double[]? bias, int tokens)
    {
        var hiddenSize = hidden.Length / tokens;
        using var gate = new MoeGate(
            config,
            tensor(weight.Select(v => (float)v).ToArray(), [config.NRoutedExperts, hiddenSize]),
            bias is null ? null : tensor(bias.Select(v => (float)v).ToArray()));
        using var x = tensor(hidden.Select(v => (float)v).ToArray(), [tokens, hiddenSize]);
        var assignments = gate.Route(x);
        var k = config.NumExpertsPerToken;
        return [.. Enumerable.Range(0, tokens).Select(t => new RefRouting(
            assignments.Experts[(t * k)..((t + 1) * k)],
            [.. assignments.Weights[(t * k)..((t + 1) * k)].Select(w => (double)w)]))];
    }

    [Theory]
    [InlineData(ScalarType.Float32, Float32Tolerance)]
    [InlineData(ScalarType.BFloat16, BFloat16Tolerance)]
    public void Expert_MatchesReference(ScalarType dtype, double tolerance)
    {
        var random = new Random(3);
        const int h = 48, i = 40;
        double[] Values(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => ((random.NextDouble() * 2) - 1) * scale)];
        var x = Values(h, 1);
        var gate = Values(i * h, 0.3);
        var up = Values(i * h, 0.3);
        var down = Values(h * i, 0.3);
        Tensor T(double[] values, params long[] shape) => tensor(values.Select(v => (float)v).ToArray(), shape).to(dtype);

        using var gateUp = Ops.FuseGateUp(T(gate, i, h), T(up, i, h));
        using var output = Ops.SwiGlu(T(x, 1, h), gateUp, T(down, h, i));

        AssertClose(RefExpert.Forward(x, gate, up, down, i), Floats(output), tolerance);
    }

    public static TheoryData<bool, ScalarType, double> AttentionCases => new()
    {
        { true, ScalarType.Float32, Float32Tolerance },
        { false, ScalarType.Float32, Float32Tolerance },
        { true, ScalarType.BFloat16, BFloat16Tolerance },
    };

    [Theory]
    [MemberData(nameof(AttentionCases))]
    public void MlaAttention_WithYarnOrWithoutQueryCompression_MatchesReference(bool tinyPreset, ScalarType dtype, double tolerance)
    {
        var config = tinyPreset ? SyntheticModel.Config(SyntheticPreset.Tiny) : WithoutQueryCompression;
        var directory = Checkpoint(config, dtype: dtype == ScalarType.BFloat16 ? "BF16" : "F32");
        var reference = RefModel.Load(directory);
        using var model = Runtime(directory, dtype);
        var x = RandomRows(40, config.HiddenSize, seed: 5);

        foreach (var layer in new[] { 0, 2 })
        {
            var expected = reference.Attention(layer, x);
            using var cache = model.CreateCache();
            cache.Reserve(x.Length);
            using var input = Rows(x, dtype);
            using var positions = arange(x.Length, ScalarType.Int64);
            var (cos, sin) = model.Rotary.Angles(positions, ScalarType.Float32);
            using (cos)
            using (sin)
            using (var actual = model.Layers[layer].Attention.Forward(input, cos, sin, [new Segment(cache, 0, x.Length)]))
            {
                AssertClose(expected.SelectMany(r => r).ToArray(), Floats(actual), tolerance);
            }
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32, Float32Tolerance)]
    [InlineData(ScalarType.BFloat16, BFloat16Tolerance)]
    public async Task MoeLayer_WithSharedExperts_MatchesReference(ScalarType dtype, double tolerance)
    {
        var config = SyntheticModel.Config(SyntheticPreset.Tiny);
        var directory = Checkpoint(config, dtype: dtype == ScalarType.BFloat16 ? "BF16" : "F32");
        var reference = RefModel.Load(directory);
        using var model = Runtime(directory, dtype);
        var x = RandomRows(32, config.HiddenSize, seed: 9);

        foreach (var layer in config.MoeLayers)
        {
            using var input = Rows(x, dtype);
            using var actual = await model.Layers[layer].MoeAsync(input, model.Experts, null, CancellationToken.None);
            AssertClose(reference.Moe(layer, x).SelectMany(r => r).ToArray(), Floats(actual), tolerance);
        }
    }

    public static TheoryData<bool, ScalarType, int, double> ModelCases => new()
    {
        { true, ScalarType.Float32, 7, Float32Tolerance },
        { false, ScalarType.Float32, 7, Float32Tolerance },
        { true, ScalarType.BFloat16, 3, BFloat16Tolerance },
    };

    /// <summary>
    /// Routing is discontinuous: where two experts' scores differ by less than bfloat16's resolution, bfloat16
    /// and float64 may pick differently and the logits then differ by far more than rounding. The seeds are
    /// ones whose routing agrees, and the test checks that it does, so a failure is never a near tie in disguise.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModelCases))]
    public async Task WholeModel_LogitsOfAPrompt_MatchReference(bool tinyPreset, ScalarType dtype, int seed, double tolerance)
    {
        var config = tinyPreset ? SyntheticModel.Config(SyntheticPreset.Tiny) : WithoutQueryCompression;
        var directory = Checkpoint(config, seed, dtype == ScalarType.BFloat16 ? "BF16" : "F32");
        var reference = RefModel.Load(directory);
        using var model = Runtime(directory, dtype);
        var routed = new Dictionary<int, ExpertAssignments>();
        model.Routed += (layer, assignments) => routed[layer] = assignments;

        using var cache = model.CreateCache();
        using var logits = await model.ForwardAsync([new SequenceInput(cache, Prompt)], LogitsFor.AllTokens);

        var x = reference.Embed(Prompt);
        for (var layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            if (config.IsMoeLayer(layer))
            {
                var expected = reference.Route(layer, PostAttentionInput(reference, layer, x));
                var k = config.NumExpertsPerToken;
                for (var t = 0; t < Prompt.Length; t++)
                {
                    Assert.Equal(expected[t].Experts.Order(), routed[layer].Experts[(t * k)..((t + 1) * k)].Order());
                }
            }

            x = reference.Layer(layer, x);
        }

        AssertClose(reference.Logits(Prompt).SelectMany(r => r).ToArray(), Floats(logits), tolerance);
    }

    /// <summary>The reference's input to a layer's MLP: post_attention_layernorm(x + attention(input_layernorm(x))).</summary>
    private static double[][] PostAttentionInput(RefModel reference, int layer, double[][] x)
    {
        var eps = reference.Config.RmsNormEps;
        var inputNorm = reference.Weight(ModelTensors.LayerTensor(layer, "input_layernorm.weight"));
        var postNorm = reference.Weight(ModelTensors.LayerTensor(layer, "post_attention_layernorm.weight"));
        var attention = reference.Attention(layer, [.. x.Select(row => RefMath.RmsNorm(row, inputNorm, eps))]);
        return [.. x.Select((row, t) => RefMath.RmsNorm(RefMath.Add(row, attention[t]), postNorm, eps))];
    }

    private static double[][] RandomRows(int rows, int width, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, width).Select(_ => (random.NextDouble() * 2) - 1).ToArray())];
    }

    private static Tensor Rows(double[][] rows, ScalarType dtype)
    {
        using var values = tensor(rows.SelectMany(r => r).Select(v => (float)v).ToArray(), [rows.Length, rows[0].Length]);
        return values.to(dtype).clone();
    }

    private static double[] Floats(Tensor tensor)
    {
        using var values = tensor.to(ScalarType.Float64).cpu().contiguous();
        return values.data<double>().ToArray();
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        var worst = 0.0;
        var at = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs(expected[i] - actual[i]);
            if (difference > worst || double.IsNaN(difference))
            {
                worst = double.IsNaN(difference) ? double.PositiveInfinity : difference;
                at = i;
            }
        }

        Assert.True(worst <= tolerance * scale, $"relative error {worst / scale:E2} at element {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}), tolerance {tolerance:E0}");
    }
}
