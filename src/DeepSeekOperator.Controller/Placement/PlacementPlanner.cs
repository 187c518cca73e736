using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>
/// Load-aware expert placement after DeepSeek's EPLB (expert-parallelism load balancer), each MoE layer on its
/// own: <see cref="ReplicateExperts"/> hands the redundant slots to the experts with the highest load per copy,
/// then <see cref="BalancedPacking"/> puts the copies on shards, heaviest first, each on the least-loaded shard
/// with a free slot. With nodes, as EPLB's hierarchical policy, expert groups are first packed onto nodes so that
/// an expert's copies stay within one node. Pure and deterministic: ties go to the lowest expert and shard index.
/// </summary>
/// <remarks>
/// Two departures from EPLB, both because a shard here holds an expert at most once
/// (<see cref="ExpertPlacement.Validate"/>): an expert gets at most as many copies as there are shards to hold
/// them, and a copy never goes to a shard that already holds that expert; when every shard with a free slot
/// does, a copy already placed on another shard moves into the free slot to make room (see
/// <see cref="BalancedPacking"/>). A second copy on the same shard would add no capacity anyway. And the greedy
/// packing is followed by swaps that relieve the most-loaded shard.
/// <para>
/// EPLB's replication minimises the load per copy, which is not quite the shard balance: with few shards (two,
/// mostly) a copy adds the same load to every shard and a lucky layout can do better. So that a plan is never
/// worse than the layout the model starts with, a layer keeps <see cref="PlacementGenerator.Contiguous"/>'s layout
/// when that leaves its most-loaded shard lighter than the plan does (one or two layers in a hundred of small random
/// shapes with the flat policy). The hierarchical policy, which also keeps every copy on its group's node, falls back
/// the same way; a layer that does gives that up for the lower load, as the contiguous layout copies experts across
/// nodes.
/// </para>
/// </remarks>
public static class PlacementPlanner
{
    /// <summary>Plans a placement of every MoE layer of <paramref name="config"/> for <paramref name="load"/>.</summary>
    /// <param name="config">The model: its routed experts, MoE layers and expert groups (<c>n_group</c>).</param>
    /// <param name="load">The load of every expert of every MoE layer of the model.</param>
    /// <param name="modelId">The model the placement is for.</param>
    /// <param name="revision">The placement's revision.</param>
    /// <param name="shards">The number of expert shards, at least 1.</param>
    /// <param name="slotsPerShard">Experts per shard per layer: between ⌈n_routed_experts / shards⌉ and n_routed_experts.</param>
    /// <param name="shardsPerNode">
    /// Shards per node, when shards are spread over nodes (consecutive shards share a node): the hierarchical
    /// policy, used when <c>n_group</c> is a multiple of the node count; otherwise, as in EPLB, the flat one.
    /// </param>
    /// <returns>A placement that passes <see cref="ExpertPlacement.Validate"/> for <paramref name="config"/>.</returns>
    /// <exception cref="ArgumentException">A parameter is out of range or the load does not match the model; the message names the parameter.</exception>
    public static ExpertPlacement Plan(ModelConfig config, ExpertLoad load, string modelId, long revision, int shards, int slotsPerShard, int? shardsPerNode = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(load);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentOutOfRangeException.ThrowIfNegative(revision);
        var experts = config.NRoutedExperts;
        CheckLoadFitsModel(config, load);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        var minimum = PlacementGenerator.MinimumSlotsPerShard(experts, shards);
        if (slotsPerShard < minimum || slotsPerShard > experts)
        {
            throw new ArgumentOutOfRangeException(nameof(slotsPerShard), slotsPerShard, $"{shards} shards need between {minimum} and {experts} slots each to hold {experts} experts, each at most once per shard");
        }

        var nodes = Nodes(config, shards, slotsPerShard, shardsPerNode);
        var contiguous = PlacementGenerator.Contiguous(config, modelId, revision, shards, slotsPerShard).Layers[0].Experts;
        var copies = new int[experts];
        var layers = new LayerPlacement[load.Layers.Count];
        for (var i = 0; i < layers.Length; i++)
        {
            var layer = load.Layers[i];
            var row = load.Row(layer);
            IReadOnlyList<IReadOnlyList<int>> placed = nodes > 1
                ? Hierarchical(row, config.NGroup, nodes, shards / nodes, slotsPerShard)
                : Pack(row, ReplicateExperts(row, shards * slotsPerShard, shards), shards, slotsPerShard, refine: true);
            if (ShardLoads(contiguous, row, copies).Max < ShardLoads(placed, row, copies).Max)
            {
                placed = contiguous;
            }

            layers[i] = new LayerPlacement { Layer = layer, Experts = placed };
        }

        return new ExpertPlacement
        {
            Revision = revision,
            ModelId = modelId,
            Shards = shards,
            SlotsPerShard = slotsPerShard,
            Layers = layers,
        };
    }

    /// <summary>
    /// EPLB's <c>replicate_experts</c>: every expert starts with one copy; each of the <paramref name="slots"/> −
    /// experts spare slots, one at a time, goes to the expert with the highest load per copy (ties: the lowest
    /// expert index) among those with fewer than <paramref name="maxCopies"/>.
    /// </summary>
    /// <param name="load">Each expert's load, finite and at least 0.</param>
    /// <param name="slots">The slots to fill, between the number of experts and experts × maxCopies.</param>
    /// <param name="maxCopies">The most copies of one expert (the number of shards that could hold them), at least 1.</param>
    /// <returns>The number of copies of each expert, summing to <paramref name="slots"/>.</returns>
    public static int[] ReplicateExperts(ReadOnlySpan<double> load, int slots, int maxCopies)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCopies, 1);
        if (load.Length == 0 || slots < load.Length || (long)load.Length * maxCopies < slots)
        {
            throw new ArgumentOutOfRangeException(nameof(slots), slots, $"{load.Length} experts with at most {maxCopies} copies each fill between {load.Length} and {(long)load.Length * maxCopies} slots");
        }

        var copies = new int[load.Length];
        var heap = new int[load.Length];
        var count = 0;
        for (var expert = 0; expert < load.Length; expert++)
        {
            copies[expert] = 1;
            if (maxCopies > 1)
            {
                heap[count] = expert;
                SiftUp(heap, count++, load, copies);
            }
        }

        for (var spare = slots - load.Length; spare > 0; spare--)
        {
            // The heap is never empty here: experts × maxCopies ≥ slots leaves a copy to give.
            var top = heap[0];
            copies[top]++;
            if (copies[top] == maxCopies)
            {
                heap[0] = heap[--count];
            }

            SiftDown(heap, 0, count, load, copies);
        }

        return copies;
    }

    /// <summary>
    /// EPLB's <c>balanced_packing</c>: the copies (each weighing its expert's load ÷ its copies) go, heaviest first
    /// (ties: the lowest expert index), to the least-loaded shard (ties: the lowest shard index) that has a free
    /// slot and does not hold a copy of the same expert. When every shard with a free slot already holds one, the
    /// copy goes to a full shard that does not, and one of that shard's copies moves into the least-loaded free
    /// slot: the move that leaves the two shards' larger load smallest.
    /// </summary>
    /// <param name="load">Each expert's load, finite and at least 0.</param>
    /// <param name="copies">Each expert's copies, between 1 and <paramref name="shards"/>, summing to shards × slotsPerShard.</param>
    /// <param name="shards">The number of shards (packs), at least 1.</param>
    /// <param name="slotsPerShard">The copies every shard ends up holding, at least 1.</param>
    /// <returns>For each shard, the experts it holds, ascending.</returns>
    public static IReadOnlyList<IReadOnlyList<int>> BalancedPacking(ReadOnlySpan<double> load, ReadOnlySpan<int> copies, int shards, int slotsPerShard) =>
        Pack(load, copies, shards, slotsPerShard, refine: false);

    /// <summary><see cref="BalancedPacking"/>, then, with <paramref name="refine"/>, swaps that relieve the most-loaded shard.</summary>
    private static IReadOnlyList<int>[] Pack(ReadOnlySpan<double> load, ReadOnlySpan<int> copies, int shards, int slotsPerShard, bool refine)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotsPerShard, 1);
        if (copies.Length != load.Length)
        {
            throw new ArgumentException($"copies has {copies.Length} entries, load has {load.Length}", nameof(copies));
        }

        var items = 0;
        for (var expert = 0; expert < copies.Length; expert++)
        {
            if (copies[expert] < 1 || copies[expert] > shards)
            {
                throw new ArgumentOutOfRangeException(nameof(copies), copies[expert], $"expert {expert} has {copies[expert]} copies; each needs between 1 and {shards} (one per shard at most)");
            }

            items += copies[expert];
        }

        if (items != shards * slotsPerShard)
        {
            throw new ArgumentException($"copies sum to {items}, but {shards} shards × {slotsPerShard} slots need {shards * slotsPerShard}", nameof(copies));
        }

        var weight = new double[load.Length];
        var order = new int[items];
        var next = 0;
        for (var expert = 0; expert < load.Length; expert++)
        {
            weight[expert] = load[expert] / copies[expert];
            for (var c = 0; c < copies[expert]; c++)
            {
                order[next++] = expert;
            }
        }

        // Heaviest first; copies of one expert are equal, so the expert index alone breaks ties.
        Array.Sort(order, (a, b) => weight[a] != weight[b] ? weight[b].CompareTo(weight[a]) : a.CompareTo(b));
        var packing = new Packing(shards, slotsPerShard, load.Length, weight);
        foreach (var expert in order)
        {
            packing.Place(expert);
        }

        if (refine)
        {
            packing.Refine();
        }

        return packing.Result();
    }

    /// <summary>
    /// The imbalance of <paramref name="placement"/> under <paramref name="load"/>: the sum over layers of the
    /// most-loaded shard's load divided by the sum over layers of the mean shard load, where a shard's load is
    /// the sum, over the experts it holds, of the expert's load ÷ its copies (a router spreads an expert's
    /// tokens evenly over its copies). 1.0 is perfect balance; a load that is zero everywhere counts as 1.0.
    /// </summary>
    /// <remarks>
    /// Layers run one after another and each waits for its slowest shard, so the sum of per-layer maxima is
    /// what a token's pass through the experts costs and the sum of per-layer means what it would cost balanced;
    /// their ratio is the slowdown that imbalance causes. It weighs each layer by its load, and a layer without
    /// load adds nothing to either sum, as if its ratio were 1.0.
    /// </remarks>
    /// <exception cref="ArgumentException">The placement lacks a layer of the load, or names an expert outside the load's range.</exception>
    public static double Imbalance(ExpertPlacement placement, ExpertLoad load)
    {
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(load);
        var byLayer = new Dictionary<int, LayerPlacement>();
        foreach (var entry in placement.Layers)
        {
            byLayer[entry.Layer] = entry;
        }

        var copies = new int[load.Experts];
        double maxima = 0, means = 0;
        foreach (var layer in load.Layers)
        {
            if (!byLayer.TryGetValue(layer, out var entry))
            {
                throw new ArgumentException($"placement revision {placement.Revision} has no layer {layer}", nameof(placement));
            }

            if (entry.Experts.Count != placement.Shards)
            {
                throw new ArgumentException($"placement layer {layer} lists {entry.Experts.Count} shards, expected {placement.Shards}", nameof(placement));
            }

            foreach (var expert in entry.Experts.SelectMany(held => held))
            {
                if ((uint)expert >= (uint)copies.Length)
                {
                    throw new ArgumentException($"placement layer {layer}: expert {expert} is outside [0, {copies.Length})", nameof(placement));
                }
            }

            var (max, total) = ShardLoads(entry.Experts, load.Row(layer), copies);
            maxima += max;
            means += total / placement.Shards;
        }

        return means > 0 ? maxima / means : 1.0;
    }

    /// <summary>The most-loaded shard's load and the sum over shards, each copy carrying its expert's load ÷ its copies.</summary>
    /// <param name="layout">The experts each shard holds, ids within <paramref name="load"/>.</param>
    /// <param name="load">Each expert's load.</param>
    /// <param name="copies">Scratch of one entry per expert.</param>
    private static (double Max, double Total) ShardLoads(IReadOnlyList<IReadOnlyList<int>> layout, double[] load, int[] copies)
    {
        Array.Clear(copies);
        foreach (var held in layout)
        {
            foreach (var expert in held)
            {
                copies[expert]++;
            }
        }

        double total = 0, max = 0;
        foreach (var held in layout)
        {
            double sum = 0;
            foreach (var expert in held)
            {
                sum += load[expert] / copies[expert];
            }

            total += sum;
            max = Math.Max(max, sum);
        }

        return (max, total);
    }

    private static void CheckLoadFitsModel(ModelConfig config, ExpertLoad load)
    {
        if (load.Experts != config.NRoutedExperts)
        {
            throw new ArgumentException($"load has {load.Experts} experts per layer, the model's n_routed_experts is {config.NRoutedExperts}", nameof(load));
        }

        var moe = config.MoeLayers;
        if (!moe.SequenceEqual(load.Layers))
        {
            throw new ArgumentException($"load has layers [{string.Join(", ", load.Layers)}], the model's MoE layers are [{string.Join(", ", moe)}]", nameof(load));
        }
    }

    /// <summary>The node count of the hierarchical policy, or 1 for the flat one.</summary>
    private static int Nodes(ModelConfig config, int shards, int slotsPerShard, int? shardsPerNode)
    {
        if (shardsPerNode is not { } perNode)
        {
            return 1;
        }

        if (perNode < 1 || shards % perNode != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(shardsPerNode), perNode, $"shardsPerNode must be at least 1 and divide the {shards} shards");
        }

        var nodes = shards / perNode;
        if (config.NGroup % nodes != 0)
        {
            return 1;
        }

        var perNodeExperts = config.NRoutedExperts / nodes;
        if (slotsPerShard > perNodeExperts)
        {
            throw new ArgumentOutOfRangeException(nameof(shardsPerNode), perNode, $"{nodes} nodes hold {perNodeExperts} experts each, fewer than slotsPerShard ({slotsPerShard}) distinct experts per shard");
        }

        return nodes;
    }

    /// <summary>EPLB's <c>rebalance_experts_hierarchical</c> for one layer: groups to nodes, then replicate and pack within each node.</summary>
    private static IReadOnlyList<int>[] Hierarchical(double[] load, int groups, int nodes, int shardsPerNode, int slotsPerShard)
    {
        var groupSize = load.Length / groups;
        var groupLoad = new double[groups];
        for (var expert = 0; expert < load.Length; expert++)
        {
            groupLoad[expert / groupSize] += load[expert];
        }

        var groupCopies = new int[groups];
        Array.Fill(groupCopies, 1);
        var groupsOnNode = Pack(groupLoad, groupCopies, nodes, groups / nodes, refine: true);
        var result = new IReadOnlyList<int>[nodes * shardsPerNode];
        var local = new double[groups / nodes * groupSize];
        var global = new int[local.Length];
        for (var node = 0; node < nodes; node++)
        {
            var i = 0;
            foreach (var group in groupsOnNode[node])
            {
                for (var expert = group * groupSize; expert < (group + 1) * groupSize; expert++)
                {
                    global[i] = expert;
                    local[i++] = load[expert];
                }
            }

            var copies = ReplicateExperts(local, shardsPerNode * slotsPerShard, shardsPerNode);
            var packed = Pack(local, copies, shardsPerNode, slotsPerShard, refine: true);
            for (var shard = 0; shard < shardsPerNode; shard++)
            {
                var held = new int[slotsPerShard];
                for (var slot = 0; slot < held.Length; slot++)
                {
                    held[slot] = global[packed[shard][slot]];
                }

                Array.Sort(held);
                result[(node * shardsPerNode) + shard] = held;
            }
        }

        return result;
    }

    /// <summary>Whether expert <paramref name="a"/> goes before <paramref name="b"/>: more load per copy, then the lower index.</summary>
    private static bool Before(int a, int b, ReadOnlySpan<double> load, int[] copies)
    {
        var wa = load[a] / copies[a];
        var wb = load[b] / copies[b];
        return wa > wb || (wa == wb && a < b);
    }

    private static void SiftUp(int[] heap, int i, ReadOnlySpan<double> load, int[] copies)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Before(heap[i], heap[parent], load, copies))
            {
                return;
            }

            (heap[i], heap[parent]) = (heap[parent], heap[i]);
            i = parent;
        }
    }

    private static void SiftDown(int[] heap, int i, int count, ReadOnlySpan<double> load, int[] copies)
    {
        while (true)
        {
            var first = i;
            var left = (2 * i) + 1;
            if (left < count && Before(heap[left], heap[first], load, copies))
            {
                first = left;
            }

            if (left + 1 < count && Before(heap[left + 1], heap[first], load, copies))
            {
                first = left + 1;
            }

            if (first == i)
            {
                return;
            }

            (heap[i], heap[first]) = (heap[first], heap[i]);
            i = first;
        }
    }

    /// <summary>The shards being filled by <see cref="BalancedPacking"/>.</summary>
    private sealed class Packing(int shards, int slots, int experts, double[] weight)
    {
        private readonly double[] _load = new double[shards];
        private readonly int[] _count = new int[shards];
        private readonly int[] _held = new int[shards * slots];
        private readonly bool[] _holds = new bool[shards * experts];

        public void Place(int expert)
        {
            var best = -1;
            var free = -1;
            for (var shard = 0; shard < shards; shard++)
            {
                if (_count[shard] == slots)
                {
                    continue;
                }

                if (free < 0 || _load[shard] < _load[free])
                {
                    free = shard;
                }

                if (!_holds[(shard * experts) + expert] && (best < 0 || _load[shard] < _load[best]))
                {
                    best = shard;
                }
            }

            if (best < 0)
            {
                best = MakeRoom(expert, free);
            }

            Add(best, expert);
        }

        /// <summary>
        /// Greedy packing leaves some imbalance that a swap fixes (two heavy copies on one shard, say): while a
        /// swap of one copy on the most-loaded shard with a lighter one elsewhere lowers the larger of the two
        /// shards' loads below the most-loaded shard's, make the swap that lowers it most. Each swap lowers the
        /// loads' sorted vector, so this ends; the round limit only bounds the time, and a most-loaded shard within
        /// 0.01% of the mean is left as it is.
        /// </summary>
        public void Refine()
        {
            double total = 0;
            for (var shard = 0; shard < shards; shard++)
            {
                total += _load[shard];
            }

            var goodEnough = total / shards * (1 + 1e-4);
            for (var round = 0; round < shards * slots * 4; round++)
            {
                var hot = 0;
                for (var shard = 1; shard < shards; shard++)
                {
                    if (_load[shard] > _load[hot])
                    {
                        hot = shard;
                    }
                }

                if (_load[hot] <= goodEnough)
                {
                    return;
                }

                var target = _load[hot] * (1 - 1e-12);
                int bestShard = -1, bestHotSlot = -1, bestSlot = -1;
                var bestPeak = target;
                for (var shard = 0; shard < shards; shard++)
                {
                    if (shard == hot)
                    {
                        continue;
                    }

                    for (var hotSlot = 0; hotSlot < slots; hotSlot++)
                    {
                        var heavy = _held[(hot * slots) + hotSlot];
                        if (_holds[(shard * experts) + heavy])
                        {
                            continue;
                        }

                        for (var slot = 0; slot < slots; slot++)
                        {
                            var light = _held[(shard * slots) + slot];
                            var delta = weight[heavy] - weight[light];
                            if (delta <= 0 || _holds[(hot * experts) + light])
                            {
                                continue;
                            }

                            var peak = Math.Max(_load[hot] - delta, _load[shard] + delta);
                            if (peak < bestPeak)
                            {
                                (bestShard, bestHotSlot, bestSlot, bestPeak) = (shard, hotSlot, slot, peak);
                            }
                        }
                    }
                }

                if (bestShard < 0)
                {
                    return;
                }

                Swap(hot, bestHotSlot, bestShard, bestSlot);
            }
        }

        public IReadOnlyList<int>[] Result()
        {
            var result = new IReadOnlyList<int>[shards];
            for (var shard = 0; shard < shards; shard++)
            {
                var held = _held.AsSpan(shard * slots, slots).ToArray();
                Array.Sort(held);
                result[shard] = held;
            }

            return result;
        }

        /// <summary>
        /// Every shard with a free slot holds <paramref name="expert"/>, and <paramref name="free"/> is the least
        /// loaded of them. A shard without the expert exists (it has fewer copies than shards) and is full; it holds
        /// more distinct experts than <paramref name="free"/>, so one of them is missing there and can move over.
        /// Returns the shard whose slot the move freed.
        /// </summary>
        private int MakeRoom(int expert, int free)
        {
            int bestShard = -1, bestSlot = -1;
            var bestPeak = double.PositiveInfinity;
            for (var shard = 0; shard < shards; shard++)
            {
                if (_holds[(shard * experts) + expert])
                {
                    continue;
                }

                for (var slot = 0; slot < slots; slot++)
                {
                    var moved = _held[(shard * slots) + slot];
                    if (_holds[(free * experts) + moved])
                    {
                        continue;
                    }

                    var peak = Math.Max(_load[free] + weight[moved], _load[shard] - weight[moved] + weight[expert]);
                    if (peak < bestPeak || (peak == bestPeak && shard == bestShard && moved < _held[(shard * slots) + bestSlot]))
                    {
                        (bestShard, bestSlot, bestPeak) = (shard, slot, peak);
                    }
                }
            }

            var movedExpert = _held[(bestShard * slots) + bestSlot];
            var last = (bestShard * slots) + --_count[bestShard];
            _held[(bestShard * slots) + bestSlot] = _held[last];
            _holds[(bestShard * experts) + movedExpert] = false;
            _load[bestShard] -= weight[movedExpert];
            Add(free, movedExpert);
            return bestShard;
        }

        private void Swap(int shard, int slot, int other, int otherSlot)
        {
            var a = _held[(shard * slots) + slot];
            var b = _held[(other * slots) + otherSlot];
            _held[(shard * slots) + slot] = b;
            _held[(other * slots) + otherSlot] = a;
            _holds[(shard * experts) + a] = false;
            _holds[(shard * experts) + b] = true;
            _holds[(other * experts) + b] = false;
            _holds[(other * experts) + a] = true;
            var delta = weight[a] - weight[b];
            _load[shard] -= delta;
            _load[other] += delta;
        }

        private void Add(int shard, int expert)
        {
            _held[(shard * slots) + _count[shard]++] = expert;
            _holds[(shard * experts) + expert] = true;
            _load[shard] += weight[expert];
        }
    }
}
