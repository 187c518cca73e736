using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Serving.Tests;

public class PlacementGeneratorTests
{
    /// <summary>A model with <paramref name="experts"/> routed experts; layers 2 and 4 of 6 are MoE (first_k_dense_replace 1, moe_layer_freq 2).</summary>
    internal static ModelConfig Model(int experts) => new()
    {
        NRoutedExperts = experts,
        NumHiddenLayers = 6,
        FirstKDenseReplace = 1,
        MoeLayerFrequency = 2,
    };

    public static TheoryData<int, int, int> Shapes()
    {
        var shapes = new TheoryData<int, int, int>();
        foreach (var (experts, shards) in new[] { (1, 1), (8, 1), (8, 2), (8, 3), (8, 4), (8, 8), (10, 4), (3, 5), (64, 7), (256, 8), (256, 6) })
        {
            var minimum = PlacementGenerator.MinimumSlotsPerShard(experts, shards);
            foreach (var slots in new[] { minimum, minimum + 1, minimum + 3, experts }.Distinct().Where(s => s <= experts))
            {
                shapes.Add(experts, shards, slots);
            }
        }

        return shapes;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Contiguous_AnyShape_IsValidAndCoversEveryExpert(int experts, int shards, int slots) =>
        CheckGenerated(PlacementGenerator.Contiguous(Model(experts), "m", 1, shards, slots), experts, shards, slots);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RoundRobin_AnyShape_IsValidAndCoversEveryExpert(int experts, int shards, int slots) =>
        CheckGenerated(PlacementGenerator.RoundRobin(Model(experts), "m", 1, shards, slots), experts, shards, slots);

    private static void CheckGenerated(ExpertPlacement placement, int experts, int shards, int slots)
    {
        var config = Model(experts);
        Assert.Empty(placement.Validate(config));
        Assert.Equal(shards, placement.Shards);
        Assert.Equal(slots, placement.SlotsPerShard);
        Assert.Equal(config.MoeLayers, placement.Layers.Select(l => l.Layer));
        foreach (var layer in placement.Layers)
        {
            Assert.Equal(shards, layer.Experts.Count);
            Assert.All(layer.Experts, s => Assert.Equal(slots, s.Count));
            Assert.All(layer.Experts, s => Assert.Equal(s.Count, s.Distinct().Count()));
            var counts = layer.Experts.SelectMany(s => s).CountBy(e => e).ToDictionary();
            Assert.Equal(Enumerable.Range(0, experts), counts.Keys.Order());

            // Copies are handed out round robin, so no expert has two more copies than another.
            Assert.True(counts.Values.Max() - counts.Values.Min() <= 1, $"copies uneven: {string.Join(", ", counts.Values)}");
        }
    }

    [Fact]
    public void Contiguous_NoSpareSlots_ShardKHoldsItsRange()
    {
        var placement = PlacementGenerator.Contiguous(Model(8), "tiny", 3, 4, 2);

        Assert.Equal([[0, 1], [2, 3], [4, 5], [6, 7]], Layout(placement));
        Assert.Equal(3, placement.Revision);
        Assert.Equal("tiny", placement.ModelId);
    }

    [Fact]
    public void Contiguous_SpareSlots_CopiesGoRoundRobin()
    {
        var placement = PlacementGenerator.Contiguous(Model(8), "tiny", 1, 4, 3);

        Assert.Equal([[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 0]], Layout(placement));
    }

    [Fact]
    public void Contiguous_ExpertsNotDivisible_RangesUnevenAndShortShardsGetCopies()
    {
        var placement = PlacementGenerator.Contiguous(Model(10), "tiny", 1, 4, 3);

        // Ranges [0,2) [2,5) [5,7) [7,10); shards 0 and 2 fill their third slot with copies.
        Assert.Equal([[0, 1, 2], [2, 3, 4], [5, 6, 3], [7, 8, 9]], Layout(placement));
    }

    [Fact]
    public void RoundRobin_NoSpareSlots_ExpertGoesToShardEModS()
    {
        var placement = PlacementGenerator.RoundRobin(Model(8), "tiny", 1, 4, 2);

        Assert.Equal([[0, 4], [1, 5], [2, 6], [3, 7]], Layout(placement));
    }

    [Fact]
    public void RoundRobin_SpareSlots_CopiesGoRoundRobin()
    {
        var placement = PlacementGenerator.RoundRobin(Model(8), "tiny", 1, 4, 3);

        Assert.Equal([[0, 4, 1], [1, 5, 2], [2, 6, 3], [3, 7, 4]], Layout(placement));
    }

    [Fact]
    public void Generators_SameLayoutInEveryMoeLayer()
    {
        var placement = PlacementGenerator.Contiguous(Model(8), "tiny", 1, 4, 3);

        Assert.Equal([2, 4], placement.Layers.Select(l => l.Layer));
        Assert.All(placement.Layers, l => Assert.Equal(Layout(placement), l.Experts.Select(s => s.ToArray()).ToArray()));
    }

    [Theory]
    [InlineData(0, 2, "shards")]
    [InlineData(4, 1, "slotsPerShard")]
    [InlineData(4, 9, "slotsPerShard")]
    public void Generators_ImpossibleShape_Throw(int shards, int slots, string parameter)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => PlacementGenerator.Contiguous(Model(8), "m", 1, shards, slots));
        Assert.Equal(parameter, error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => PlacementGenerator.RoundRobin(Model(8), "m", 1, shards, slots));
    }

    [Theory]
    [InlineData(256, 8, 32)]
    [InlineData(10, 4, 3)]
    [InlineData(3, 5, 1)]
    [InlineData(0, 3, 0)]
    public void MinimumSlotsPerShard_IsCeilingOfExpertsOverShards(int experts, int shards, int expected) =>
        Assert.Equal(expected, PlacementGenerator.MinimumSlotsPerShard(experts, shards));

    private static int[][] Layout(ExpertPlacement placement) => [.. placement.Layers[0].Experts.Select(s => s.ToArray())];
}
