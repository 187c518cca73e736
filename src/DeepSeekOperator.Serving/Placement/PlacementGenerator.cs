using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Serving.Placement;

/// <summary>
/// Placements that need no observed load: the same layout in every MoE layer. Each expert gets one primary
/// slot; slots left over (when shards × slotsPerShard exceeds n_routed_experts) get copies, handed out round
/// robin: shard by shard, each takes the next expert in id order that it does not hold yet.
/// </summary>
public static class PlacementGenerator
{
    /// <summary>The fewest slots per shard that hold every expert once: ⌈experts / shards⌉.</summary>
    public static int MinimumSlotsPerShard(int experts, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(experts);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        return (experts + shards - 1) / shards;
    }

    /// <summary>Shard k holds experts [k·E/S, (k+1)·E/S) of every layer, then copies in its spare slots.</summary>
    /// <param name="config">The model: its routed experts and MoE layers.</param>
    /// <param name="modelId">The model the placement is for.</param>
    /// <param name="revision">The placement's revision.</param>
    /// <param name="shards">The number of shards, at least 1.</param>
    /// <param name="slotsPerShard">Between <see cref="MinimumSlotsPerShard"/> and n_routed_experts.</param>
    public static ExpertPlacement Contiguous(ModelConfig config, string modelId, long revision, int shards, int slotsPerShard)
    {
        ArgumentNullException.ThrowIfNull(config);
        var experts = config.NRoutedExperts;
        CheckShape(experts, shards, slotsPerShard);
        var primaries = Enumerable.Range(0, shards)
            .Select(k => Enumerable.Range((int)((long)k * experts / shards), (int)(((long)(k + 1) * experts / shards) - ((long)k * experts / shards))).ToList())
            .ToList();
        return Build(config, modelId, revision, slotsPerShard, primaries);
    }

    /// <summary>Expert e goes to shard e mod S in every layer, then copies fill the spare slots.</summary>
    /// <param name="config">The model: its routed experts and MoE layers.</param>
    /// <param name="modelId">The model the placement is for.</param>
    /// <param name="revision">The placement's revision.</param>
    /// <param name="shards">The number of shards, at least 1.</param>
    /// <param name="slotsPerShard">Between <see cref="MinimumSlotsPerShard"/> and n_routed_experts.</param>
    public static ExpertPlacement RoundRobin(ModelConfig config, string modelId, long revision, int shards, int slotsPerShard)
    {
        ArgumentNullException.ThrowIfNull(config);
        var experts = config.NRoutedExperts;
        CheckShape(experts, shards, slotsPerShard);
        var primaries = Enumerable.Range(0, shards)
            .Select(k => Enumerable.Range(0, experts).Where(e => e % shards == k).ToList())
            .ToList();
        return Build(config, modelId, revision, slotsPerShard, primaries);
    }

    private static void CheckShape(int experts, int shards, int slotsPerShard)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        var minimum = MinimumSlotsPerShard(experts, shards);
        if (slotsPerShard < minimum || slotsPerShard > experts)
        {
            throw new ArgumentOutOfRangeException(
                nameof(slotsPerShard),
                slotsPerShard,
                $"{shards} shards need between {minimum} and {experts} slots each to hold {experts} experts, each at most once per shard");
        }
    }

    private static ExpertPlacement Build(ModelConfig config, string modelId, long revision, int slotsPerShard, List<List<int>> shards)
    {
        var experts = config.NRoutedExperts;
        var held = shards.Select(s => new HashSet<int>(s)).ToList();
        var next = 0;
        while (shards.Any(s => s.Count < slotsPerShard))
        {
            for (var k = 0; k < shards.Count; k++)
            {
                if (shards[k].Count == slotsPerShard)
                {
                    continue;
                }

                // A shard with a free slot holds fewer than slotsPerShard <= experts ids, so one is missing.
                while (held[k].Contains(next))
                {
                    next = (next + 1) % experts;
                }

                shards[k].Add(next);
                held[k].Add(next);
                next = (next + 1) % experts;
            }
        }

        IReadOnlyList<IReadOnlyList<int>> layout = [.. shards.Select(s => (IReadOnlyList<int>)[.. s])];
        return new ExpertPlacement
        {
            Revision = revision,
            ModelId = modelId,
            Shards = shards.Count,
            SlotsPerShard = slotsPerShard,
            Layers = [.. config.MoeLayers.Select(layer => new LayerPlacement { Layer = layer, Experts = layout })],
        };
    }
}
