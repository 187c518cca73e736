using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// The order in which a ReplicaSet scaled down gives up its pods (<c>controller.ActivePodsWithRanks</c>, with the
/// <c>PodDeletionCost</c> and <c>LogarithmicScaleDown</c> features on as they are by default): the pod sorted first
/// goes first. Unscheduled before scheduled; Pending before Unknown before Running; not ready before ready; lower
/// <c>pod-deletion-cost</c> first; pods doubled up on a node with more related pods first; ready for less time first
/// (compared on a log₂ scale, ties broken by UID); more container restarts first; newer before older.
/// </summary>
internal sealed class PodDeletionOrder : IComparer<(JsonObject Pod, int Rank)>
{
    private readonly DateTimeOffset now;

    private PodDeletionOrder(DateTimeOffset now) => this.now = now;

    /// <summary>
    /// The first <paramref name="count"/> of <paramref name="pods"/> to delete; each is ranked by how many of the
    /// active <paramref name="related"/> pods (those of every ReplicaSet of the same owner) share its node.
    /// </summary>
    public static List<JsonObject> PodsToDelete(IReadOnlyList<JsonObject> pods, IEnumerable<JsonObject> related, int count, DateTimeOffset now)
    {
        if (count >= pods.Count)
        {
            return [.. pods];
        }

        var onNode = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pod in related.Where(Pods.IsActive))
        {
            var node = Pods.NodeName(pod);
            onNode[node] = onNode.GetValueOrDefault(node) + 1;
        }

        var ranked = pods.Select(p => (Pod: p, Rank: onNode.GetValueOrDefault(Pods.NodeName(p)))).ToList();
        ranked.Sort(new PodDeletionOrder(now));
        return [.. ranked.Take(count).Select(r => r.Pod)];
    }

    public int Compare((JsonObject Pod, int Rank) x, (JsonObject Pod, int Rank) y)
    {
        var (a, b) = (x.Pod, y.Pod);
        var (nodeA, nodeB) = (Pods.NodeName(a), Pods.NodeName(b));
        if (nodeA != nodeB && (nodeA.Length == 0 || nodeB.Length == 0))
        {
            return nodeA.Length == 0 ? -1 : 1;
        }

        var phase = PhaseOrdinal(a).CompareTo(PhaseOrdinal(b));
        if (phase != 0)
        {
            return phase;
        }

        var (readyA, readyB) = (Pods.IsReady(a), Pods.IsReady(b));
        if (readyA != readyB)
        {
            return readyA ? 1 : -1;
        }

        var cost = Pods.DeletionCost(a).CompareTo(Pods.DeletionCost(b));
        if (cost != 0)
        {
            return cost;
        }

        if (x.Rank != y.Rank)
        {
            return y.Rank.CompareTo(x.Rank);
        }

        if (readyA && readyB)
        {
            var order = NewerFirst(Pods.ReadySince(a), Pods.ReadySince(b), a, b);
            if (order != 0)
            {
                return order;
            }
        }

        var restarts = Pods.MaxRestarts(b).CompareTo(Pods.MaxRestarts(a));
        if (restarts != 0)
        {
            return restarts;
        }

        return NewerFirst(Pods.Created(a), Pods.Created(b), a, b);
    }

    private static int PhaseOrdinal(JsonObject pod) => Pods.Phase(pod) switch
    {
        "Unknown" => 1,
        "Running" => 2,
        _ => 0,
    };

    /// <summary>Empty before set, then newer before older on the logarithmic scale of their ages; 0 when equal.</summary>
    private int NewerFirst(DateTimeOffset? timeA, DateTimeOffset? timeB, JsonObject a, JsonObject b)
    {
        if (timeA == timeB)
        {
            return 0;
        }

        if (timeA is null || timeB is null)
        {
            return timeA is null ? -1 : 1;
        }

        var diff = LogRank(timeA.Value) - LogRank(timeB.Value);
        if (diff == 0)
        {
            return string.CompareOrdinal(Meta.Uid(a), Meta.Uid(b));
        }

        return diff < 0 ? -1 : 1;
    }

    /// <summary>⌊log₂ of the age in nanoseconds⌋, or -1 for a time not in the past (<c>logarithmicRankDiff</c>).</summary>
    private long LogRank(DateTimeOffset time)
    {
        var age = (now - time).Ticks * 100.0;
        return age > 0 ? (long)Math.Log2(age) : -1;
    }
}
