using System.Text.Json.Nodes;
using DeepSeekOperator.Moe.Safetensors;
using DeepSeekOperator.Moe.Tests.Reference;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Tests;

public sealed class ModelLoaderTests : IDisposable
{
    private static readonly ModelConfig Tiny = SyntheticModel.Config(SyntheticPreset.Tiny);
    private static readonly int[] Prompt = [256, 104, 101, 108, 108, 111, 33];
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Init(string name, int shards = 1, ScalarType dtype = ScalarType.Float32, int seed = 7)
    {
        var path = Path.Combine(_directory.Path, name);
        SyntheticModel.Write(path, Tiny, seed, skew: 0, dtype, shards);
        return path;
    }

    private static async Task<float[]> LogitsAsync(MoeModel model)
    {
        using var cache = model.CreateCache();
        using var logits = await model.ForwardAsync([new SequenceInput(cache, Prompt)], LogitsFor.AllTokens);
        return logits.data<float>().ToArray();
    }

    [Fact]
    public async Task InitCheckpoint_RoundTripsToTheSameModel()
    {
        var path = Init("single");

        using var loaded = ModelLoader.Load(path, ScalarType.Float32, CPU);
        using var built = MoeModel.FromWeights(Tiny, SyntheticModel.Weights(Tiny, seed: 7), ScalarType.Float32, CPU);

        Assert.Equal(Tiny, loaded.Config with { EosTokenIds = Tiny.EosTokenIds });
        AssertClose(await LogitsAsync(built), await LogitsAsync(loaded));
    }

    [Fact]
    public void ShardedCheckpoint_LoadsTheSameTensorsAsTheSingleFile()
    {
        var single = Init("single");
        var sharded = Init("sharded", shards: 3);

        using var one = SafetensorsCheckpoint.Open(single);
        using var three = SafetensorsCheckpoint.Open(sharded);
        var a = one.Load(_ => true, ScalarType.Float32, CPU);
        var b = three.Load(_ => true, ScalarType.Float32, CPU);

        Assert.True(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")));
        Assert.Equal(3, three.Tensors.Select(t => t.File).Distinct().Count());
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.All(a, pair => Assert.True(pair.Value.allclose(b[pair.Key], rtol: 0, atol: 0), pair.Key));
    }

    [Fact]
    public async Task BFloat16Checkpoint_LoadsAsFloat32ValuesRoundedToBFloat16()
    {
        var path = Init("bf16", dtype: ScalarType.BFloat16);

        using var loaded = ModelLoader.Load(path, ScalarType.Float32, CPU);
        var weights = SyntheticModel.Weights(Tiny, seed: 7);
        foreach (var (name, tensor) in weights.Where(w => !w.Key.EndsWith("e_score_correction_bias", StringComparison.Ordinal)).ToList())
        {
            weights[name] = tensor.to(ScalarType.BFloat16).to(ScalarType.Float32);
        }

        using var rounded = MoeModel.FromWeights(Tiny, weights, ScalarType.Float32, CPU);
        AssertClose(await LogitsAsync(rounded), await LogitsAsync(loaded));
    }

    [Fact]
    public async Task RouterAndTwoShards_ComputeWhatTheWholeModelComputes_EachReadingOnlyItsWeights()
    {
        var path = Init("split", shards: 2);
        var routerProgress = new List<LoadProgress>();
        var shardProgress = new List<LoadProgress>();

        using var even = ModelLoader.LoadExperts(path, (_, expert) => expert % 2 == 0, ScalarType.Float32, CPU, new Recorder(shardProgress));
        using var odd = ModelLoader.LoadExperts(path, (_, expert) => expert % 2 == 1, ScalarType.Float32, CPU);
        var experts = new SplitExecutor(even, odd);
        using var router = ModelLoader.LoadRouter(path, experts, ScalarType.Float32, CPU, new Recorder(routerProgress));
        using var whole = ModelLoader.Load(path, ScalarType.Float32, CPU);

        AssertClose(await LogitsAsync(whole), await LogitsAsync(router));
        var expertTensors = ModelTensors.Expected(Tiny).Count(s => s.Kind == TensorKind.RoutedExpert);
        Assert.Equal(expertTensors / 2, shardProgress[^1].TensorsTotal);
        Assert.Equal(ModelTensors.Expected(Tiny).Count() - expertTensors, routerProgress[^1].TensorsTotal);
        Assert.Equal(routerProgress[^1].BytesTotal, routerProgress[^1].BytesLoaded);
        Assert.Equal([0, 2, 4, 6, 8, 10, 12, 14], even.ExpertsOf(3));
    }

    [Fact]
    public async Task Fp8Experts_LoadAsTheirBlockScaledValues()
    {
        // Layer 1's experts stored as F8_E4M3 codes with one scale per 128×128 block (one block here), and the
        // same model with those weights written out in float32 by hand: both must compute the same logits.
        var random = new Random(5);
        var raw = new List<RawTensor>();
        var dequantised = SyntheticModel.Weights(Tiny, seed: 7);
        foreach (var spec in ModelTensors.Expected(Tiny))
        {
            if (spec is { Kind: TensorKind.RoutedExpert, Layer: 1 })
            {
                var codes = new byte[spec.Elements];
                for (var i = 0; i < codes.Length; i++)
                {
                    codes[i] = (byte)random.Next(0, 0x7F); // sign bit set half the time below, never the NaN codes 0x7F/0xFF
                    codes[i] |= (byte)(random.Next(2) << 7);
                }

                var scale = 0.002f * (1 + (spec.Expert!.Value % 5));
                raw.Add(new RawTensor(spec.Name, SafetensorsDtype.F8_E4M3, spec.Shape, codes));
                raw.Add(new RawTensor(spec.Name + "_scale_inv", SafetensorsDtype.F32, [1, 1], BitConverter.GetBytes(scale)));
                dequantised[spec.Name].Dispose();
                dequantised[spec.Name] = tensor([.. codes.Select(c => Float8.Decode(c, SafetensorsDtype.F8_E4M3) * scale)], [.. spec.Shape]);
            }
            else
            {
                raw.Add(new RawTensor(spec.Name, SafetensorsDtype.F32, spec.Shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(dequantised[spec.Name].data<float>().ToArray().AsSpan()).ToArray()));
            }
        }

        var path = Path.Combine(_directory.Path, "fp8");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "config.json"), Tiny.ToJson());
        SafetensorsWriter.WriteCheckpoint(path, raw, shards: 2);

        using var loaded = ModelLoader.Load(path, ScalarType.Float32, CPU);
        using var expected = MoeModel.FromWeights(Tiny, dequantised, ScalarType.Float32, CPU);

        AssertClose(await LogitsAsync(expected), await LogitsAsync(loaded));
    }

    [Fact]
    public void TensorShapeDisagreeingWithConfig_IsRejectedNamingTheTensor()
    {
        var path = Init("shape");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(path, "config.json")))!.AsObject();
        config["moe_intermediate_size"] = 48;
        File.WriteAllText(Path.Combine(path, "config.json"), config.ToJsonString());

        var error = Assert.Throws<CheckpointException>(() => ModelLoader.Load(path, ScalarType.Float32, CPU));

        Assert.Equal("model.layers.1.mlp.shared_experts.gate_proj.weight", error.Tensor);
        Assert.EndsWith("tensor 'model.layers.1.mlp.shared_experts.gate_proj.weight': has shape [32, 64] but config.json implies [48, 64]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingExpert_IsRejectedNamingTheTensorAndTheExpert()
    {
        var path = Path.Combine(_directory.Path, "missing");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "config.json"), Tiny.ToJson());
        var weights = SyntheticModel.Weights(Tiny, seed: 7);
        weights.Remove(ModelTensors.ExpertTensor(2, 5, "up_proj"));
        SafetensorsWriter.WriteCheckpoint(path, weights, 1);

        var error = Assert.Throws<CheckpointException>(() => ModelLoader.LoadExperts(path, (_, _) => true, ScalarType.Float32, CPU));

        Assert.Equal("model.layers.2.mlp.experts.5.up_proj.weight", error.Tensor);
        Assert.Contains("is missing (expert 5 of layer 2 needs it, per config.json)", error.Message, StringComparison.Ordinal);
        // A shard that does not hold that expert loads.
        using var shard = ModelLoader.LoadExperts(path, (_, expert) => expert != 5, ScalarType.Float32, CPU);
        Assert.DoesNotContain(5, shard.ExpertsOf(2));
    }

    [Fact]
    public void MissingConfig_IsRejectedNamingTheFile()
    {
        var path = Init("noconfig");
        File.Delete(Path.Combine(path, "config.json"));

        var error = Assert.Throws<ModelConfigException>(() => ModelLoader.Load(path, ScalarType.Float32, CPU));

        Assert.Contains(Path.Combine(path, "config.json"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SyntheticWeights_AreTheSameForTheSameSeed_AndDifferForAnother()
    {
        var spec = ModelTensors.Expected(Tiny).First(s => s.Kind == TensorKind.RoutedExpert);

        Assert.Equal(SyntheticModel.Values(spec, 7), SyntheticModel.Values(spec, 7));
        Assert.NotEqual(SyntheticModel.Values(spec, 7), SyntheticModel.Values(spec, 8));
    }

    [Fact]
    public async Task Skew_ConcentratesRoutingOnLowNumberedExperts()
    {
        async Task<double> ShareOfLowHalfAsync(double skew)
        {
            var weights = SyntheticModel.Weights(Tiny, seed: 7, skew: skew);
            using var model = MoeModel.FromWeights(Tiny, weights, ScalarType.Float32, CPU);
            long low = 0, all = 0;
            model.Routed += (_, assignments) =>
            {
                low += assignments.Experts.Count(e => e < Tiny.NRoutedExperts / 2);
                all += assignments.Count;
            };
            using var cache = model.CreateCache();
            using (await model.ForwardAsync([new SequenceInput(cache, [.. Enumerable.Range(0, 200)])]))
            {
            }

            return (double)low / all;
        }

        var balanced = await ShareOfLowHalfAsync(0);
        var skewed = await ShareOfLowHalfAsync(1);

        Assert.InRange(balanced, 0.35, 0.65);
        Assert.True(skewed > 0.85, $"with skew 1, {skewed:P0} of assignments go to the lower half of the experts");
    }

    /// <summary>Equal up to float32 summation order (threads and memory alignment can change it): 1e-6 of the largest value.</summary>
    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = expected.Max(Math.Abs);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-6 * scale, $"largest difference {worst} against largest value {scale}");
    }

    /// <summary>Sends each assignment to the shard holding its expert and sums the shards' partial results, as a router does.</summary>
    private sealed class SplitExecutor(params LocalExpertExecutor[] shards) : IExpertExecutor
    {
        public ValueTask<Tensor> ForwardAsync(int layer, Tensor hidden, ExpertAssignments assignments, CancellationToken cancellationToken)
        {
            Tensor? sum = null;
            foreach (var shard in shards)
            {
                var held = shard.ExpertsOf(layer).ToHashSet();
                var mine = Enumerable.Range(0, assignments.Count).Where(i => held.Contains(assignments.Experts[i])).ToArray();
                using var partial = shard.Forward(layer, hidden, new ExpertAssignments(
                    assignments.TokenCount,
                    [.. mine.Select(i => assignments.Tokens[i])],
                    [.. mine.Select(i => assignments.Experts[i])],
                    [.. mine.Select(i => assignments.Weights[i])]));
                var next = sum is null ? partial.clone() : sum + partial;
                sum?.Dispose();
                sum = next;
            }

            return ValueTask.FromResult(sum!.DetachFromDisposeScope());
        }
    }

    private sealed class Recorder(List<LoadProgress> reports) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => reports.Add(value);
    }
}
