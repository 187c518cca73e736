namespace DeepSeekOperator.Controller.Runtime;

/// <summary>What an <see cref="Informer{T}"/> watches and how often it refreshes.</summary>
public sealed record InformerOptions
{
    /// <summary>The namespace to watch; null watches every namespace (and is required for cluster-scoped kinds).</summary>
    public string? Namespace { get; init; }

    /// <summary>A label selector limiting the objects cached; null caches all.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>How often every cached object is delivered again as an update, so missed work is retried; zero turns it off.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the server keeps one watch open (its <c>timeoutSeconds</c>) before the informer opens the next.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The first wait before re-listing after a failed list or a broken watch; it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(800);

    /// <summary>The longest wait between failed attempts.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        if (ResyncPeriod < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ResyncPeriod), ResyncPeriod, "ResyncPeriod must not be negative.");
        }

        if (WatchTimeout < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(WatchTimeout), WatchTimeout, "WatchTimeout must be at least one second.");
        }

        if (RetryDelay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, "RetryDelay must be positive.");
        }

        if (MaxRetryDelay < RetryDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetryDelay), MaxRetryDelay, "MaxRetryDelay must not be below RetryDelay.");
        }
    }
}

/// <summary>
/// Callbacks for an informer's changes, called one at a time in the order the changes were seen. They run on the
/// informer's loop, so they should only record work (enqueue a key), never do it.
/// </summary>
/// <typeparam name="T">The kind watched.</typeparam>
public sealed record InformerHandlers<T>
{
    /// <summary>An object appeared in the cache.</summary>
    public Action<T>? Added { get; init; }

    /// <summary>An object changed (old, new); on a resync both are the same cached object.</summary>
    public Action<T, T>? Updated { get; init; }

    /// <summary>
    /// An object changed, or was delivered again by a resync, for a handler that needs only its new state: unlike
    /// <see cref="Updated"/>, it does not make the informer read the old state back from its cache.
    /// </summary>
    public Action<T>? Changed { get; init; }

    /// <summary>An object left the cache; the argument is its last known state.</summary>
    public Action<T>? Deleted { get; init; }
}

/// <summary>A cache that a controller waits for before its first reconcile.</summary>
public interface ISyncedCache
{
    /// <summary>Whether the first list has been loaded.</summary>
    bool HasSynced { get; }

    /// <summary>Completes when the first list has been loaded.</summary>
    Task WaitForSyncAsync(CancellationToken cancellationToken);
}
