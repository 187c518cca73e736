using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Serving.Router.Internal;

/// <summary>
/// The part of one layer step that goes to one shard: the batch rows it needs (each token once) and its
/// (row, expert, weight) triples, rows numbered within the part.
/// </summary>
/// <param name="Shard">The shard's index in the placement.</param>
/// <param name="Rows">For each row sent, the token's index in the batch.</param>
/// <param name="Tokens">For each assignment, its row in <paramref name="Rows"/>.</param>
/// <param name="Experts">For each assignment, the expert.</param>
/// <param name="Weights">For each assignment, the gate weight.</param>
internal sealed record ShardPart(int Shard, int[] Rows, int[] Tokens, int[] Experts, float[] Weights);

/// <summary>Splits a layer step's assignments between the shards of a placement.</summary>
internal static class ShardDispatch
{
    /// <summary>
    /// Chooses a shard for every assignment, in order: an expert held by one shard goes there; among copies, the
    /// shard that has been sent the fewest tokens so far in this step, then one already receiving the token,
    /// then the lowest index. Returns the parts of the shards that receive anything, by shard index.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not an MoE layer of the placement, or an expert id is out of range.</exception>
    public static IReadOnlyList<ShardPart> Split(ExpertLocator locator, int layer, ExpertAssignments assignments)
    {
        var shards = locator.Placement.Shards;
        var rowOf = new Dictionary<int, int>[shards];
        var rows = new List<int>[shards];
        var triples = new List<(int Row, int Expert, float Weight)>[shards];
        for (var s = 0; s < shards; s++)
        {
            rowOf[s] = [];
            rows[s] = [];
            triples[s] = [];
        }

        for (var i = 0; i < assignments.Count; i++)
        {
            var token = assignments.Tokens[i];
            var expert = assignments.Experts[i];
            var holders = locator.ShardsHolding(layer, expert);
            var chosen = holders[0];
            for (var k = 1; k < holders.Count; k++)
            {
                var candidate = holders[k];
                var fewer = rows[candidate].Count.CompareTo(rows[chosen].Count);
                if (fewer < 0 || (fewer == 0 && rowOf[candidate].ContainsKey(token) && !rowOf[chosen].ContainsKey(token)))
                {
                    chosen = candidate;
                }
            }

            if (!rowOf[chosen].TryGetValue(token, out var row))
            {
                row = rows[chosen].Count;
                rowOf[chosen][token] = row;
                rows[chosen].Add(token);
            }

            triples[chosen].Add((row, expert, assignments.Weights[i]));
        }

        return [.. Enumerable.Range(0, shards)
            .Where(s => triples[s].Count > 0)
            .Select(s => new ShardPart(
                s,
                [.. rows[s]],
                [.. triples[s].Select(t => t.Row)],
                [.. triples[s].Select(t => t.Expert)],
                [.. triples[s].Select(t => t.Weight)]))];
    }
}
