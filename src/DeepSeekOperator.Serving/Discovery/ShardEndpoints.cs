namespace DeepSeekOperator.Serving.Discovery;

/// <summary>
/// A snapshot of the replicas of every expert shard, as a resolver last saw them. Each shard's replicas are
/// distinct and sorted, so equal sets compare equal.
/// </summary>
public sealed class ShardEndpoints : IEquatable<ShardEndpoints>
{
    private readonly ShardEndpoint[][] replicas;

    /// <summary>Creates a snapshot from each shard's replicas, in shard order (duplicates are dropped).</summary>
    public ShardEndpoints(IEnumerable<IEnumerable<ShardEndpoint>> replicas)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        this.replicas = [.. replicas.Select(shard => shard.Distinct().OrderBy(e => e.Host, StringComparer.Ordinal).ThenBy(e => e.Port).ToArray())];
    }

    /// <summary>A snapshot of <paramref name="shards"/> shards with no replicas yet.</summary>
    public static ShardEndpoints None(int shards)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shards);
        return new ShardEndpoints(Enumerable.Repeat(Enumerable.Empty<ShardEndpoint>(), shards));
    }

    /// <summary>How many shards there are.</summary>
    public int Shards => replicas.Length;

    /// <summary>The replicas of shard <paramref name="shard"/>, sorted; empty when none is ready.</summary>
    public IReadOnlyList<ShardEndpoint> this[int shard]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(shard);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, Shards);
            return replicas[shard];
        }
    }

    /// <summary>Whether every shard has at least one replica (and there is at least one shard).</summary>
    public bool IsReady => Shards > 0 && replicas.All(r => r.Length > 0);

    /// <summary>The shards that have no replica, in order.</summary>
    public IReadOnlyList<int> ShardsWithoutReplicas => [.. Enumerable.Range(0, Shards).Where(s => replicas[s].Length == 0)];

    /// <inheritdoc/>
    public bool Equals(ShardEndpoints? other) =>
        other is not null && other.Shards == Shards && replicas.Zip(other.replicas).All(p => p.First.SequenceEqual(p.Second));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ShardEndpoints);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var shard in replicas)
        {
            hash.Add(shard.Length);
            foreach (var endpoint in shard)
            {
                hash.Add(endpoint);
            }
        }

        return hash.ToHashCode();
    }

    /// <summary>Each shard and its replicas, e.g. <c>0: 10.0.0.1:9000, 10.0.0.2:9000; 1: none</c>.</summary>
    public override string ToString() => string.Join("; ", replicas.Select((r, s) => $"{s}: {(r.Length == 0 ? "none" : string.Join(", ", r))}"));
}
