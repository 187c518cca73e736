using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Serving.Placement;

/// <summary>
/// Answers where experts live under one valid placement: the shards holding an expert of a layer (what a
/// router chooses among), and the experts a shard holds (what a shard loads and serves).
/// </summary>
public sealed class ExpertLocator
{
    private readonly Dictionary<int, int[][]> shardsByLayer = [];

    /// <summary>Indexes <paramref name="placement"/> after checking it against the model.</summary>
    /// <exception cref="PlacementException">The placement does not fit the model.</exception>
    public ExpertLocator(ExpertPlacement placement, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(placement);
        placement.EnsureValid(config);
        Placement = placement;
        foreach (var layer in placement.Layers)
        {
            var holders = Enumerable.Range(0, config.NRoutedExperts).Select(_ => new List<int>()).ToArray();
            for (var shard = 0; shard < layer.Experts.Count; shard++)
            {
                foreach (var expert in layer.Experts[shard])
                {
                    holders[expert].Add(shard);
                }
            }

            shardsByLayer[layer.Layer] = [.. holders.Select(h => h.ToArray())];
        }
    }

    /// <summary>The placement indexed.</summary>
    public ExpertPlacement Placement { get; }

    /// <summary>The shards holding <paramref name="expert"/> in <paramref name="layer"/>, in increasing order; never empty.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not an MoE layer, or the expert id is out of range.</exception>
    public IReadOnlyList<int> ShardsHolding(int layer, int expert)
    {
        var experts = Layer(layer);
        if ((uint)expert >= (uint)experts.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(expert), expert, $"the model has {experts.Length} routed experts");
        }

        return experts[expert];
    }

    /// <summary>Whether <paramref name="shard"/> holds <paramref name="expert"/> in <paramref name="layer"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not an MoE layer, or the expert id is out of range.</exception>
    public bool Holds(int shard, int layer, int expert) => ShardsHolding(layer, expert).Contains(shard);

    /// <summary>The experts <paramref name="shard"/> holds in <paramref name="layer"/>, in slot order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not an MoE layer, or the shard is out of range.</exception>
    public IReadOnlyList<int> ExpertsOn(int shard, int layer)
    {
        _ = Layer(layer);
        if ((uint)shard >= (uint)Placement.Shards)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"the placement has {Placement.Shards} shards");
        }

        return Placement.Layers.First(l => l.Layer == layer).Experts[shard];
    }

    private int[][] Layer(int layer) =>
        shardsByLayer.TryGetValue(layer, out var experts)
            ? experts
            : throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer {layer} is not an MoE layer of placement revision {Placement.Revision}");
}
