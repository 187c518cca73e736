using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Tests;

public class LocalExpertExecutorTests
{
    private static readonly ModelConfig Config = SyntheticModel.Config(SyntheticPreset.Tiny);

    private static LocalExpertExecutor Executor(IEnumerable<int> experts, int layer = 1, int? threads = null)
    {
        const int source = 1;
        var weights = SyntheticModel.Weights(Config, seed: 3);
        var held = experts.ToDictionary(e => e, e => new ExpertWeights(
            weights[ModelTensors.ExpertTensor(source, e, "gate_proj")].clone(),
            weights[ModelTensors.ExpertTensor(source, e, "up_proj")].clone(),
            weights[ModelTensors.ExpertTensor(source, e, "down_proj")].clone()));
        foreach (var tensor in weights.Values)
        {
            tensor.Dispose();
        }

        return new LocalExpertExecutor(Config, new Dictionary<int, IReadOnlyDictionary<int, ExpertWeights>> { [layer] = held }, threads);
    }

    [Fact]
    public async Task GroupedExperts_EqualTheWeightedSumOfEachAssignmentComputedAlone()
    {
        using var executor = Executor(Enumerable.Range(0, 16));
        using var hidden = randn(5, Config.HiddenSize, generator: new TorchSharp.torch.Generator(1));
        // Token 3 has no assignment; tokens share experts; expert 9 appears twice in a row.
        int[] tokens = [0, 0, 1, 2, 4, 4, 1, 0];
        int[] experts = [9, 2, 9, 15, 0, 9, 3, 4];
        float[] weights = [0.5f, 1.25f, 0.1f, 2f, -0.3f, 0.7f, 1f, 0.05f];
        var assignments = new ExpertAssignments(5, tokens, experts, weights);

        using var output = await executor.ForwardAsync(1, hidden, assignments, CancellationToken.None);

        var expected = new double[5, Config.HiddenSize];
        for (var a = 0; a < tokens.Length; a++)
        {
            using var alone = executor.Forward(1, hidden.narrow(0, tokens[a], 1), new ExpertAssignments(1, [0], [experts[a]], [1f]));
            var values = alone.data<float>().ToArray();
            for (var j = 0; j < values.Length; j++)
            {
                expected[tokens[a], j] += weights[a] * values[j];
            }
        }

        var actual = output.data<float>().ToArray();
        for (var t = 0; t < 5; t++)
        {
            for (var j = 0; j < Config.HiddenSize; j++)
            {
                Assert.Equal(expected[t, j], actual[(t * Config.HiddenSize) + j], 5);
            }
        }

        Assert.All(actual.Skip(3 * Config.HiddenSize).Take(Config.HiddenSize), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ExpertNotHeld_IsRefusedNamingLayerAndExpert()
    {
        using var executor = Executor([0, 1, 2, 3]);
        using var hidden = zeros(2, Config.HiddenSize);

        var error = Assert.Throws<ArgumentException>(() => executor.Forward(1, hidden, new ExpertAssignments(2, [0, 1], [1, 7], [1f, 1f])));

        Assert.StartsWith("expert 7 of layer 1 is not held here", error.Message, StringComparison.Ordinal);
        Assert.Equal([0, 1, 2, 3], executor.ExpertsOf(1));
    }

    [Fact]
    public void HugeExpertId_IsRefusedWithoutAllocatingForIt()
    {
        using var executor = Executor([0, 1]);
        using var hidden = zeros(1, Config.HiddenSize);

        var error = Assert.Throws<ArgumentException>(() => executor.Forward(1, hidden, new ExpertAssignments(1, [0], [int.MaxValue], [1f])));

        Assert.StartsWith($"expert {int.MaxValue} of layer 1 is not held here", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpertsSideBySideOnWorkers_GiveWhatOneAfterAnotherGives()
    {
        using var serial = Executor(Enumerable.Range(0, 16), threads: 1);
        using var parallel = Executor(Enumerable.Range(0, 16), threads: 3);
        using var hidden = randn(40, Config.HiddenSize, generator: new TorchSharp.torch.Generator(2));
        var random = new Random(4);
        var tokens = Enumerable.Range(0, 40).SelectMany(t => Enumerable.Repeat(t, 4)).ToArray();
        var experts = tokens.Select(_ => random.Next(16)).ToArray();
        var weights = tokens.Select(_ => (float)random.NextDouble()).ToArray();
        var assignments = new ExpertAssignments(40, tokens, experts, weights);

        using var expected = serial.Forward(1, hidden, assignments);
        var results = Enumerable.Range(0, 8).AsParallel().Select(_ =>
        {
            using var actual = parallel.Forward(1, hidden, assignments);
            return actual.allclose(expected, rtol: 1e-5, atol: 1e-6);
        }).ToList();

        Assert.All(results, Assert.True);
    }

    [Fact]
    public void LayerNotHeld_IsRefused()
    {
        using var executor = Executor([0]);
        using var hidden = zeros(1, Config.HiddenSize);

        var error = Assert.Throws<ArgumentException>(() => executor.Forward(2, hidden, new ExpertAssignments(1, [0], [0], [1f])));

        Assert.StartsWith("no experts of layer 2 are held here", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HiddenStatesOfTheWrongShape_AreRefused()
    {
        using var executor = Executor([0]);
        using var hidden = zeros(3, Config.HiddenSize + 1);

        var error = Assert.Throws<ArgumentException>(() => executor.Forward(1, hidden, new ExpertAssignments(2, [0], [0], [1f])));

        Assert.StartsWith("hidden states are [3, 65] but the assignments are for 2 tokens of width 64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DenseLayer_CannotHoldExperts()
    {
        var error = Assert.Throws<ArgumentException>(() => Executor([0], layer: 0));

        Assert.StartsWith("layer 0 is not an MoE layer of this model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AssignmentOutsideTheBatch_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ExpertAssignments(2, [0, 2], [1, 1], [1f, 1f]));

        Assert.StartsWith("assignment 1 names token 2, outside the batch of 2 tokens", error.Message, StringComparison.Ordinal);
    }
}
