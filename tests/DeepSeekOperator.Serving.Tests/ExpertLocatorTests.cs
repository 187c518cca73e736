using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Serving.Tests;

public class ExpertLocatorTests
{
    private static readonly Moe.ModelConfig Model = PlacementGeneratorTests.Model(8);

    [Fact]
    public void ShardsHolding_WithCopies_ListsEveryHolderInOrder()
    {
        // [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 0]] in layers 2 and 4.
        var locator = new ExpertLocator(PlacementGenerator.Contiguous(Model, "tiny", 1, 4, 3), Model);

        Assert.Equal([0, 3], locator.ShardsHolding(2, 0));
        Assert.Equal([0], locator.ShardsHolding(2, 1));
        Assert.Equal([0, 1], locator.ShardsHolding(4, 2));
        Assert.Equal([3], locator.ShardsHolding(4, 7));
    }

    [Fact]
    public void ShardsHolding_EveryExpert_NeverEmptyAndConsistentWithExpertsOn()
    {
        var placement = PlacementGenerator.RoundRobin(Model, "tiny", 1, 3, 5);
        var locator = new ExpertLocator(placement, Model);

        foreach (var layer in Model.MoeLayers)
        {
            for (var expert = 0; expert < Model.NRoutedExperts; expert++)
            {
                var shards = locator.ShardsHolding(layer, expert);
                Assert.NotEmpty(shards);
                for (var shard = 0; shard < placement.Shards; shard++)
                {
                    Assert.Equal(shards.Contains(shard), locator.ExpertsOn(shard, layer).Contains(expert));
                    Assert.Equal(shards.Contains(shard), locator.Holds(shard, layer, expert));
                }
            }
        }
    }

    [Fact]
    public void ExpertsOn_ReturnsSlotOrder()
    {
        var locator = new ExpertLocator(PlacementGenerator.RoundRobin(Model, "tiny", 1, 4, 3), Model);

        Assert.Equal([3, 7, 4], locator.ExpertsOn(3, 4));
    }

    [Fact]
    public void Lookups_OutOfRange_Throw()
    {
        var locator = new ExpertLocator(PlacementGenerator.Contiguous(Model, "tiny", 1, 4, 2), Model);

        Assert.Equal("layer", Assert.Throws<ArgumentOutOfRangeException>(() => locator.ShardsHolding(1, 0)).ParamName);
        Assert.Equal("expert", Assert.Throws<ArgumentOutOfRangeException>(() => locator.ShardsHolding(2, 8)).ParamName);
        Assert.Equal("shard", Assert.Throws<ArgumentOutOfRangeException>(() => locator.ExpertsOn(4, 2)).ParamName);
    }

    [Fact]
    public void Constructor_InvalidPlacement_Throws()
    {
        var placement = PlacementGenerator.Contiguous(Model, "tiny", 1, 4, 2) with { SlotsPerShard = 3 };

        var error = Assert.Throws<PlacementException>(() => new ExpertLocator(placement, Model));

        Assert.Contains("layer 2 shard 0 holds 2 experts, expected slotsPerShard 3", error.Message, StringComparison.Ordinal);
    }
}
