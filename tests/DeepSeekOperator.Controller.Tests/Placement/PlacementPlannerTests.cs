using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Controller.Tests.Placement;

public class PlacementPlannerTests
{
    [Fact]
    public void ReplicateExperts_GivesEachSpareSlotToTheHighestLoadPerCopy_TiesToTheLowestExpert()
    {
        // Per copy, starting from one copy each: [6, 3, 2, 1].
        // Spare 1: expert 0 (6)                    → copies [2, 1, 1, 1], per copy [3, 3, 2, 1]
        // Spare 2: experts 0 and 1 tie at 3 → 0    → copies [3, 1, 1, 1], per copy [2, 3, 2, 1]
        // Spare 3: expert 1 (3)                    → copies [3, 2, 1, 1], per copy [2, 1.5, 2, 1]
        Assert.Equal([3, 2, 1, 1], PlacementPlanner.ReplicateExperts([6, 3, 2, 1], slots: 7, maxCopies: 4));
    }

    [Fact]
    public void ReplicateExperts_ExpertAtMaxCopies_SpareGoesToTheNext()
    {
        // Spare 1: expert 0 (10) → 2 copies, the most allowed; experts 1 and 2 tie at 1 → 1, then 2.
        Assert.Equal([2, 2, 2], PlacementPlanner.ReplicateExperts([10, 1, 1], slots: 6, maxCopies: 2));
    }

    [Fact]
    public void ReplicateExperts_NoSpareSlots_OneCopyEach() =>
        Assert.Equal([1, 1, 1], PlacementPlanner.ReplicateExperts([5, 0, 2], slots: 3, maxCopies: 3));

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    public void ReplicateExperts_SlotsOutOfRange_RejectedNamingSlots(int slots)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PlacementPlanner.ReplicateExperts([1, 2, 3], slots, maxCopies: 2));
        Assert.Equal("slots", e.ParamName);
    }

    [Fact]
    public void BalancedPacking_SingleCopies_HeaviestFirstToTheLeastLoadedShardWithAFreeSlot()
    {
        // 8 → s0 (tie at 0: lowest)  s0 = 8
        // 6 → s1                      s1 = 6
        // 5 → s1 (6 < 8)              s1 = 11
        // 4 → s0 (8 < 11)             s0 = 12
        // 3 → s1 (11 < 12)            s1 = 14, full
        // 2 → s0 (the only free)      s0 = 14
        var packed = PlacementPlanner.BalancedPacking([8, 6, 5, 4, 3, 2], [1, 1, 1, 1, 1, 1], shards: 2, slotsPerShard: 3);
        Assert.Equal([[0, 3, 5], [1, 2, 4]], packed);
    }

    [Fact]
    public void BalancedPacking_Copies_WeighLoadOverCopiesAndNeverShareAShard()
    {
        // Weights: expert 0 = 8/2 = 4 (twice), 1 = 4, 2 = 3, 3 = 1/2 = 0.5 (twice); order 0, 0, 1, 2, 3, 3.
        // 0 → s0 (4); 0 → s1 (s0 holds 0) (4); 1 → s2 (4)
        // 2 → s0 (all at 4: lowest) = 7, full {0, 2}
        // 3 → s1 (4 = s2: lowest) = 4.5, full {0, 3}
        // 3 → s2 = 4.5, full {1, 3}
        var packed = PlacementPlanner.BalancedPacking([8, 4, 3, 1], [2, 1, 1, 2], shards: 3, slotsPerShard: 2);
        Assert.Equal([[0, 2], [0, 3], [1, 3]], packed);
    }

    [Fact]
    public void BalancedPacking_OnlyFreeSlotHoldsTheExpert_ACopyMovesOverToMakeRoom()
    {
        // Weights: 10, 0.5 (twice), 1, 1, 1; order 0, 2, 3, 4, 1, 1.
        // 0 → s0 (10); 2, 3, 4 → s1 (1, 2, 3), full; 1 → s0 (10.5)
        // 1 again: only s0 is free and it holds 1. s1 lacks 1; moving 2, 3 or 4 (weight 1) to s0 gives
        // max(10.5 + 1, 3 − 1 + 0.5) = 11.5 each: the lowest, 2, moves, and 1 takes its slot on s1.
        var packed = PlacementPlanner.BalancedPacking([10, 1, 1, 1, 1], [1, 2, 1, 1, 1], shards: 2, slotsPerShard: 3);
        Assert.Equal([[0, 1, 2], [1, 3, 4]], packed);
    }

    [Fact]
    public void BalancedPacking_MoreCopiesThanShards_RejectedNamingCopies()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PlacementPlanner.BalancedPacking([1, 1], [3, 1], shards: 2, slotsPerShard: 2));
        Assert.Equal("copies", e.ParamName);
        Assert.Contains("expert 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BalancedPacking_CopiesNotFillingEveryShard_RejectedNamingCopies()
    {
        var e = Assert.Throws<ArgumentException>(() => PlacementPlanner.BalancedPacking([1, 1, 1], [1, 1, 1], shards: 2, slotsPerShard: 2));
        Assert.Equal("copies", e.ParamName);
    }

    [Fact]
    public void Imbalance_SumsPerLayerMaximaOverSummedMeans()
    {
        var config = Model(experts: 4);
        var placement = PlacementGenerator.Contiguous(config, "m", 1, shards: 2, slotsPerShard: 2);
        // Layer 2: shards {0, 1} = 3 + 1 = 4 and {2, 3} = 2: max 4, mean 3. Layer 4: 2 and 2: max 2, mean 2.
        // (4 + 2) / (3 + 2) = 1.2.
        var load = Load((2, [3, 1, 1, 1]), (4, [1, 1, 1, 1]));
        Assert.Equal(1.2, PlacementPlanner.Imbalance(placement, load), 12);
    }

    [Fact]
    public void Imbalance_LayerWithoutLoad_AddsNothing_AllZeroIsOne()
    {
        var config = Model(experts: 4);
        var placement = PlacementGenerator.Contiguous(config, "m", 1, shards: 2, slotsPerShard: 2);
        Assert.Equal(4.0 / 3, PlacementPlanner.Imbalance(placement, Load((2, [3, 1, 1, 1]), (4, [0, 0, 0, 0]))), 12);
        Assert.Equal(1.0, PlacementPlanner.Imbalance(placement, Load((2, [0, 0, 0, 0]), (4, [0, 0, 0, 0]))));
    }

    [Fact]
    public void Imbalance_CopiesShareTheirExpertsLoad()
    {
        var config = Model(experts: 2);
        // Expert 0 on both shards, expert 1 on shard 1: shard 0 = 4/2 = 2, shard 1 = 4/2 + 2 = 4; max 4, mean 3.
        var placement = new ExpertPlacement
        {
            Revision = 1,
            ModelId = "m",
            Shards = 2,
            SlotsPerShard = 2,
            Layers = [.. config.MoeLayers.Select(l => new LayerPlacement { Layer = l, Experts = [[0], [0, 1]] })],
        };
        Assert.Equal(4.0 / 3, PlacementPlanner.Imbalance(placement, Load((2, [4, 2]), (4, [0, 0]))), 12);
    }

    [Fact]
    public void Imbalance_PlacementWithoutALayerOfTheLoad_RejectedNamingTheLayer()
    {
        var placement = PlacementGenerator.Contiguous(Model(experts: 2), "m", 1, shards: 1, slotsPerShard: 2);
        var e = Assert.Throws<ArgumentException>(() => PlacementPlanner.Imbalance(placement, Load((2, [1, 1]), (5, [1, 1]))));
        Assert.Contains("layer 5", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(0, 8)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Plan_RandomLoads_ValidExactSlotsEveryExpertPlacedCopiesAsReplicatedNeverWorseThanContiguous(int seed)
    {
        var random = new Random(seed);
        int layers = 0, kept = 0;
        for (var run = 0; run < 60; run++)
        {
            var experts = random.Next(1, 41);
            var shards = random.Next(1, 11);
            var minimum = PlacementGenerator.MinimumSlotsPerShard(experts, shards);
            var slots = Math.Min(experts, minimum + random.Next(0, 4));
            var config = Model(experts);
            var load = RandomLoad(random, config);
            var planned = PlacementPlanner.Plan(config, load, "m", 7, shards, slots);
            var contiguous = CheckPlan(config, load, planned, shards, slots, $"seed {seed} run {run}: {experts} experts, {shards} shards × {slots}");
            foreach (var layer in planned.Layers)
            {
                layers++;
                if (!Copies(layer, experts).SequenceEqual(PlacementPlanner.ReplicateExperts([.. load.ForLayer(layer.Layer)], shards * slots, shards)))
                {
                    // Not EPLB's copies: only the contiguous layout, kept because it balances this layer better.
                    Assert.True(Same(layer.Experts, contiguous), $"seed {seed} run {run}: layer {layer.Layer} has copies [{string.Join(", ", Copies(layer, experts))}]");
                    kept++;
                }
            }
        }

        Assert.True(kept * 10 < layers, $"the contiguous layout was kept in {kept} of {layers} layers");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Plan_RandomLoadsWithNodes_ValidExactSlotsEveryExpertPlacedGroupsWithinANodeNeverWorseThanContiguous(int seed)
    {
        var random = new Random(seed);
        int layers = 0, kept = 0;
        for (var run = 0; run < 60; run++)
        {
            var nodes = random.Next(2, 5);
            var shardsPerNode = random.Next(1, 5);
            var groups = nodes * random.Next(1, 4);
            var groupSize = random.Next(1, 6);
            var (experts, shards) = (groups * groupSize, nodes * shardsPerNode);
            var minimum = PlacementGenerator.MinimumSlotsPerShard(experts, shards);
            var slots = Math.Min(experts / nodes, minimum + random.Next(0, 4));
            var config = Model(experts) with { NGroup = groups };
            var load = RandomLoad(random, config);
            var planned = PlacementPlanner.Plan(config, load, "m", 7, shards, slots, shardsPerNode);
            var shape = $"seed {seed} run {run}: {experts} experts in {groups} groups, {nodes} nodes × {shardsPerNode} shards × {slots}";
            var contiguous = CheckPlan(config, load, planned, shards, slots, shape);
            foreach (var layer in planned.Layers)
            {
                layers++;
                if (Same(layer.Experts, contiguous) && !GroupsWithinANode(layer, groupSize, shardsPerNode))
                {
                    // The contiguous layout, kept because it balances this layer better, copies across nodes.
                    kept++;
                    continue;
                }

                Assert.True(GroupsWithinANode(layer, groupSize, shardsPerNode), $"{shape}: layer {layer.Layer} spreads a group over nodes");
            }
        }

        Assert.True(kept * 4 < layers, $"the contiguous layout was kept in {kept} of {layers} layers");
    }

    [Theory]
    [InlineData(256, 32, 9)]
    [InlineData(64, 4, 16)]
    [InlineData(64, 4, 32)]
    [InlineData(12, 3, 8)]
    [InlineData(10, 5, 2)]
    public void Plan_UniformLoad_ImbalanceIsOne(int experts, int shards, int slots)
    {
        var config = Model(experts);
        var load = new ExpertLoad(config.MoeLayers.Select(l => new LayerLoad(l, [.. Enumerable.Repeat(100.0, experts)])));
        var planned = PlacementPlanner.Plan(config, load, "m", 1, shards, slots);
        Assert.Equal(1.0, PlacementPlanner.Imbalance(planned, load), 9);
    }

    [Fact]
    public void Plan_SkewedLoadWithRedundantSlots_ImbalanceFallsFromAboveTwoToBelowOnePointTwo()
    {
        // The small synthetic preset (64 experts, 7 MoE layers) on 4 shards of 20 slots (16 redundant), with load
        // falling off towards high-numbered experts as a --skew'ed gate makes it, each layer a little differently.
        var config = SyntheticModel.Config(SyntheticPreset.Small);
        var random = new Random(3);
        var load = new ExpertLoad(config.MoeLayers.Select(l =>
            new LayerLoad(l, [.. Enumerable.Range(0, 64).Select(e => 1000 * Math.Pow(0.93, e) * (0.8 + (0.4 * random.NextDouble())))])));
        var contiguous = PlacementPlanner.Imbalance(PlacementGenerator.Contiguous(config, "m", 1, 4, 20), load);
        var planned = PlacementPlanner.Plan(config, load, "m", 2, 4, 20);

        Assert.True(contiguous > 2, $"contiguous imbalance {contiguous}");
        Assert.InRange(PlacementPlanner.Imbalance(planned, load), 1.0, 1.2);
    }

    [Fact]
    public void Plan_WithNodes_KeepsEachGroupAndEveryCopyOfItsExpertsWithinOneNode()
    {
        // 32 experts in 8 groups of 4, 8 shards on 4 nodes of 2, 6 slots each: each node packs 2 groups (8 experts)
        // into 12 slots.
        var config = Model(experts: 32) with { NGroup = 8 };
        var random = new Random(11);
        for (var run = 0; run < 20; run++)
        {
            var load = RandomLoad(random, config);
            var planned = PlacementPlanner.Plan(config, load, "m", 1, shards: 8, slotsPerShard: 6, shardsPerNode: 2);
            Assert.Empty(planned.Validate(config));
            Assert.All(planned.Layers, layer => Assert.True(GroupsWithinANode(layer, groupSize: 4, shardsPerNode: 2), $"run {run}: layer {layer.Layer} spreads a group over nodes"));
        }
    }

    [Fact]
    public void Plan_NodesNotDividingTheGroups_FallsBackToTheFlatPolicyAsEplbDoes()
    {
        var config = Model(experts: 12) with { NGroup = 2 };
        var load = RandomLoad(new Random(5), config);
        var hierarchical = PlacementPlanner.Plan(config, load, "m", 1, shards: 6, slotsPerShard: 3, shardsPerNode: 2);
        var flat = PlacementPlanner.Plan(config, load, "m", 1, shards: 6, slotsPerShard: 3);
        Assert.Equal(flat.Serialize(), hierarchical.Serialize());
    }

    [Fact]
    public void Plan_ShardsPerNodeNotDividingShards_RejectedNamingShardsPerNode()
    {
        var config = Model(experts: 8);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PlacementPlanner.Plan(config, RandomLoad(new Random(1), config), "m", 1, shards: 4, slotsPerShard: 2, shardsPerNode: 3));
        Assert.Equal("shardsPerNode", e.ParamName);
    }

    [Fact]
    public void Plan_NodeWithFewerExpertsThanSlots_RejectedNamingShardsPerNode()
    {
        // 2 nodes of 8 experts each cannot fill a shard's 9 slots with distinct experts.
        var config = Model(experts: 16) with { NGroup = 4 };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PlacementPlanner.Plan(config, RandomLoad(new Random(1), config), "m", 1, shards: 4, slotsPerShard: 9, shardsPerNode: 2));
        Assert.Equal("shardsPerNode", e.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    public void Plan_SlotsPerShardOutOfRange_RejectedNamingSlotsPerShard(int slots)
    {
        var config = Model(experts: 8);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PlacementPlanner.Plan(config, RandomLoad(new Random(1), config), "m", 1, shards: 2, slots));
        Assert.Equal("slotsPerShard", e.ParamName);
    }

    [Fact]
    public void Plan_LoadWithOtherExpertCount_RejectedNamingLoad()
    {
        var e = Assert.Throws<ArgumentException>(() => PlacementPlanner.Plan(Model(experts: 8), Load((2, [1, 1]), (4, [1, 1])), "m", 1, 2, 4));
        Assert.Equal("load", e.ParamName);
        Assert.Contains("n_routed_experts", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_LoadWithOtherLayers_RejectedNamingLoad()
    {
        var e = Assert.Throws<ArgumentException>(() => PlacementPlanner.Plan(Model(experts: 2), Load((2, [1, 1]), (3, [1, 1])), "m", 1, 1, 2));
        Assert.Equal("load", e.ParamName);
        Assert.Contains("MoE layers are [2, 4]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_NegativeRevision_RejectedNamingRevision()
    {
        var config = Model(experts: 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PlacementPlanner.Plan(config, Load((2, [1, 1]), (4, [1, 1])), "m", -1, 1, 2));
        Assert.Equal("revision", e.ParamName);
    }

    /// <summary>A model with <paramref name="experts"/> routed experts in one group; layers 2 and 4 of 5 are MoE.</summary>
    private static ModelConfig Model(int experts) => new()
    {
        NRoutedExperts = experts,
        NGroup = 1,
        NumHiddenLayers = 5,
        FirstKDenseReplace = 1,
        MoeLayerFrequency = 2,
    };

    /// <summary>
    /// Checks what every plan guarantees: it is valid for the model, every shard has exactly <paramref name="slots"/>
    /// experts, every expert is placed in every layer, and it is no worse than the contiguous layout; that layout.
    /// </summary>
    private static IReadOnlyList<IReadOnlyList<int>> CheckPlan(ModelConfig config, ExpertLoad load, ExpertPlacement planned, int shards, int slots, string shape)
    {
        Assert.True(planned.Validate(config).Count == 0, $"{shape}: {string.Join("; ", planned.Validate(config))}");
        Assert.Equal((7L, "m", shards, slots), (planned.Revision, planned.ModelId, planned.Shards, planned.SlotsPerShard));
        foreach (var layer in planned.Layers)
        {
            Assert.All(layer.Experts, held => Assert.Equal(slots, held.Count));
            Assert.True(Copies(layer, config.NRoutedExperts).All(c => c >= 1), $"{shape}: layer {layer.Layer} leaves an expert out");
        }

        var contiguousPlacement = PlacementGenerator.Contiguous(config, "m", 1, shards, slots);
        var contiguous = PlacementPlanner.Imbalance(contiguousPlacement, load);
        var balanced = PlacementPlanner.Imbalance(planned, load);
        Assert.True(balanced <= contiguous + 1e-9, $"{shape}: planned imbalance {balanced} is worse than contiguous {contiguous}");
        return contiguousPlacement.Layers[0].Experts;
    }

    private static int[] Copies(LayerPlacement layer, int experts)
    {
        var copies = new int[experts];
        foreach (var expert in layer.Experts.SelectMany(h => h))
        {
            copies[expert]++;
        }

        return copies;
    }

    /// <summary>Whether every copy of every expert of a group is on one node, consecutive shards sharing a node.</summary>
    private static bool GroupsWithinANode(LayerPlacement layer, int groupSize, int shardsPerNode)
    {
        var nodeOfGroup = new Dictionary<int, int>();
        for (var shard = 0; shard < layer.Experts.Count; shard++)
        {
            foreach (var expert in layer.Experts[shard])
            {
                if (nodeOfGroup.TryGetValue(expert / groupSize, out var node) ? node != shard / shardsPerNode : !nodeOfGroup.TryAdd(expert / groupSize, shard / shardsPerNode))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool Same(IReadOnlyList<IReadOnlyList<int>> a, IReadOnlyList<IReadOnlyList<int>> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Order().SequenceEqual(p.Second.Order()));

    private static ExpertLoad Load(params (int Layer, double[] Experts)[] layers) =>
        new(layers.Select(l => new LayerLoad(l.Layer, l.Experts)));

    /// <summary>Uniform, Zipf-like in a random order, or mostly idle with a few hot experts, chosen at random per layer.</summary>
    private static ExpertLoad RandomLoad(Random random, ModelConfig config) =>
        new(config.MoeLayers.Select(layer =>
        {
            var experts = config.NRoutedExperts;
            var kind = random.Next(3);
            var ranks = Enumerable.Range(0, experts).OrderBy(_ => random.Next()).ToArray();
            return new LayerLoad(layer, [.. Enumerable.Range(0, experts).Select(e => kind switch
            {
                0 => random.Next(0, 1000),
                1 => Math.Round(10000 / Math.Pow(ranks[e] + 1, 1.0 + random.NextDouble())),
                _ => random.Next(10) == 0 ? random.Next(1000, 5000) : random.Next(0, 3),
            })]);
        }));
}
