namespace DeepSeekOperator.DevCluster.Internal.Scheduling;

/// <summary>
/// The scheduler's cache of what the bound, unfinished pods ask of each node, kept up to date from pod changes as
/// kube-scheduler's cache is, so that a scheduling decision costs what the nodes number rather than what the pods do.
/// A pod the scheduler has just bound is counted at once (kube-scheduler's <c>AssumePod</c>), and a change older than
/// what the cache holds for a pod is ignored, so that the change stream catching up never uncounts it.
/// </summary>
internal sealed class NodeUsage
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, (long Revision, string Node, PodDemand Demand)> pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PodTotals> nodes = new(StringComparer.Ordinal);

    /// <summary>
    /// Records the pod <paramref name="key"/> as of <paramref name="revision"/>: bound to <paramref name="node"/> and
    /// asking <paramref name="demand"/>, or, with a null node, counted nowhere (pending, finished or deleted).
    /// </summary>
    public void Observe(string key, long revision, string? node, PodDemand? demand)
    {
        lock (gate)
        {
            Apply(key, revision, node, demand);
        }
    }

    /// <summary>
    /// Records the pod <paramref name="key"/> as <paramref name="read"/> finds it now, with no change recorded in between:
    /// for a pod just bound, before its binding comes through the change stream.
    /// </summary>
    public void Assume(string key, Func<(long Revision, string? Node, PodDemand? Demand)?> read)
    {
        lock (gate)
        {
            if (read() is { } current)
            {
                Apply(key, current.Revision, current.Node, current.Demand);
            }
        }
    }

    /// <summary>What the pods counted on <paramref name="node"/> ask of it, as of now.</summary>
    public PodTotals On(string node)
    {
        lock (gate)
        {
            return nodes.TryGetValue(node, out var counted) ? counted.Copy() : new PodTotals();
        }
    }

    private void Apply(string key, long revision, string? node, PodDemand? demand)
    {
        if (pods.TryGetValue(key, out var held))
        {
            if (held.Revision > revision)
            {
                return;
            }

            var counted = nodes[held.Node];
            counted.Remove(held.Demand);
            if (counted.Pods == 0)
            {
                nodes.Remove(held.Node);
            }

            pods.Remove(key);
        }

        if (node is null || demand is null)
        {
            return;
        }

        if (!nodes.TryGetValue(node, out var target))
        {
            target = new PodTotals();
            nodes[node] = target;
        }

        target.Add(demand);
        pods[key] = (revision, node, demand);
    }
}

/// <summary>What the pods bound to one node ask of it, summed.</summary>
internal sealed class PodTotals
{
    /// <summary>The pods counted.</summary>
    public int Pods { get; private set; }

    /// <summary>Their requests, summed.</summary>
    public Dictionary<string, long> Requested { get; private init; } = new(StringComparer.Ordinal);

    public long ScoringCpu { get; private set; }

    public long ScoringMemory { get; private set; }

    public void Add(PodDemand demand)
    {
        Pods++;
        ResourceAmounts.Add(Requested, demand.Requests);
        ScoringCpu += demand.ScoringCpu;
        ScoringMemory += demand.ScoringMemory;
    }

    public void Remove(PodDemand demand)
    {
        Pods--;
        foreach (var (name, amount) in demand.Requests)
        {
            Requested[name] = Requested.GetValueOrDefault(name) - amount;
        }

        ScoringCpu -= demand.ScoringCpu;
        ScoringMemory -= demand.ScoringMemory;
    }

    public PodTotals Copy() => new()
    {
        Pods = Pods,
        Requested = new Dictionary<string, long>(Requested, StringComparer.Ordinal),
        ScoringCpu = ScoringCpu,
        ScoringMemory = ScoringMemory,
    };
}
