namespace DeepSeekOperator.Serving.Discovery;

/// <summary>
/// Finds the replicas of every expert shard and keeps the set current. A router reads <see cref="Current"/> when
/// it picks a replica, and follows <see cref="WatchAsync"/> to learn of changes (to open or close channels)
/// without polling.
/// </summary>
public interface IShardResolver
{
    /// <summary>How many shards the resolver finds replicas for.</summary>
    int Shards { get; }

    /// <summary>The latest snapshot; before the first lookup every shard has no replicas.</summary>
    ShardEndpoints Current { get; }

    /// <summary>
    /// <see cref="Current"/> at once, then every later snapshot that differs from the one before. A reader that
    /// falls behind skips to the newest snapshot. Ends by throwing <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    IAsyncEnumerable<ShardEndpoints> WatchAsync(CancellationToken cancellationToken);

    /// <summary>Keeps <see cref="Current"/> up to date until <paramref name="cancellationToken"/> is cancelled, then returns.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
