using System.Globalization;
using DeepSeekOperator.Serving.Discovery.Internal;

namespace DeepSeekOperator.Serving.Discovery;

/// <summary>Replicas given up front (tests, hand-started processes): <c>--shard 0=127.0.0.2:9000,127.0.0.3:9000 --shard 1=…</c>.</summary>
public sealed class StaticShardResolver : IShardResolver
{
    private readonly Latest<ShardEndpoints> latest;

    /// <summary>Creates a resolver that always answers <paramref name="endpoints"/>.</summary>
    public StaticShardResolver(ShardEndpoints endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        latest = new Latest<ShardEndpoints>(endpoints);
    }

    /// <inheritdoc/>
    public int Shards => latest.Current.Shards;

    /// <inheritdoc/>
    public ShardEndpoints Current => latest.Current;

    /// <summary>
    /// Reads the values of the <c>--shard</c> option, each <c>k=host:port[,host:port…]</c>; shards 0 to the
    /// largest k must each be given exactly once.
    /// </summary>
    /// <exception cref="FormatException">A value is malformed, a shard is given twice or missing; the message names the value.</exception>
    public static StaticShardResolver Parse(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var shards = new SortedDictionary<int, ShardEndpoint[]>();
        foreach (var value in values)
        {
            var field = $"--shard '{value}'";
            var equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                throw new FormatException($"{field} is not shard=host:port[,host:port…]");
            }

            if (!int.TryParse(value.AsSpan(0, equals), NumberStyles.None, CultureInfo.InvariantCulture, out var shard))
            {
                throw new FormatException($"{field}: shard '{value[..equals]}' is not a non-negative number");
            }

            var list = value[(equals + 1)..];
            if (list.Length == 0)
            {
                throw new FormatException($"{field}: shard {shard} lists no endpoints");
            }

            var endpoints = list.Split(',').Select(e => ShardEndpoint.Parse(e, field)).ToArray();
            if (!shards.TryAdd(shard, endpoints))
            {
                throw new FormatException($"{field}: shard {shard} is given more than once");
            }
        }

        if (shards.Count == 0)
        {
            throw new FormatException("--shard: no shards given");
        }

        var count = shards.Keys.Max() + 1;
        var missing = Enumerable.Range(0, count).Where(s => !shards.ContainsKey(s)).ToList();
        if (missing.Count > 0)
        {
            throw new FormatException($"--shard: {(missing.Count == 1 ? "shard" : "shards")} {string.Join(", ", missing)} not given (shards 0 to {count - 1} are needed)");
        }

        return new StaticShardResolver(new ShardEndpoints(shards.Values));
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<ShardEndpoints> WatchAsync(CancellationToken cancellationToken) => latest.WatchAsync(cancellationToken);

    /// <summary>Returns at once: the replicas never change.</summary>
    public Task RunAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
