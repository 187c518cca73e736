using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Shard;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.Shard;

public sealed class ShardExpertsTests : IDisposable
{
    private static readonly ModelConfig Config = SyntheticModel.Config(SyntheticPreset.Tiny);
    private readonly ExpertLocator _locator = new(PlacementGenerator.RoundRobin(Config, "tiny", 3, shards: 4, slotsPerShard: 5), Config);
    private readonly string _directory = Directory.CreateTempSubdirectory("shard-experts-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Load_FromAModelDirectory_HoldsExactlyTheShardsExpertsWithTheWrittenWeights()
    {
        SyntheticModel.Write(_directory, Config, seed: 4, skew: 0, ScalarType.Float32);

        using var loaded = ShardExperts.Load(_directory, _locator, 2, ScalarType.Float32, CPU);
        using var generated = ShardExperts.Synthetic(Config, seed: 4, _locator, 2);

        foreach (var layer in Config.MoeLayers)
        {
            Assert.Equal(_locator.ExpertsOn(2, layer).Order(), loaded.ExpertsOf(layer));
            Assert.Equal(loaded.ExpertsOf(layer), generated.ExpertsOf(layer));
        }

        var held = _locator.ExpertsOn(2, 3).ToArray();
        using var hidden = randn(3, Config.HiddenSize, generator: new Generator(9));
        var assignments = new ExpertAssignments(3, [0, 1, 2, 2], [held[0], held[1], held[2], held[4]], [0.5f, 1f, 0.25f, 0.75f]);
        using var fromFile = loaded.Forward(3, hidden, assignments);
        using var fromSeed = generated.Forward(3, hidden, assignments);
        Assert.True(fromFile.allclose(fromSeed, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Synthetic_ShardOutsideThePlacement_IsRefusedNamingIt()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ShardExperts.Synthetic(Config, seed: 4, _locator, 4));

        Assert.Equal("shard", error.ParamName);
        Assert.Contains("placement revision 3 has 4 shards", error.Message, StringComparison.Ordinal);
    }
}
