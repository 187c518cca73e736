using System.Diagnostics.CodeAnalysis;

namespace DeepSeekOperator.Controller.Runtime;

/// <summary>
/// A work queue ported from client-go's <c>workqueue</c> (its plain, delaying and rate-limiting layers in one class):
/// a key added while it is queued is queued once; a key is handed to one worker at a time, and a key added while a
/// worker holds it is queued again when that worker calls <see cref="Done"/>. Delays run on the injected
/// <see cref="TimeProvider"/>.
/// </summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "client-go's name, which readers of controller code know.")]
public sealed class WorkQueue<TKey> : IDisposable
    where TKey : notnull
{
    private readonly Lock gate = new();
    private readonly Queue<TKey> queue = new();
    private readonly HashSet<TKey> dirty = [];
    private readonly HashSet<TKey> processing = [];
    private readonly Dictionary<TKey, Delayed> delayed = [];
    private readonly Queue<TaskCompletionSource> waiters = new();
    private readonly TimeProvider time;
    private bool shuttingDown;

    /// <summary>Creates a queue whose delays run on <paramref name="time"/> and whose failures back off by <paramref name="rateLimiter"/>.</summary>
    public WorkQueue(TimeProvider time, ExponentialRateLimiter<TKey> rateLimiter)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(rateLimiter);
        this.time = time;
        RateLimiter = rateLimiter;
    }

    /// <summary>The per-key backoff of <see cref="AddRateLimited"/>.</summary>
    public ExponentialRateLimiter<TKey> RateLimiter { get; }

    /// <summary>How many keys wait to be handed out (not counting those waiting for a delay or held by a worker).</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return queue.Count;
            }
        }
    }

    /// <summary>Whether <see cref="ShutDown"/> has been called.</summary>
    public bool IsShuttingDown
    {
        get
        {
            lock (gate)
            {
                return shuttingDown;
            }
        }
    }

    /// <summary>Queues <paramref name="key"/> unless it is queued already; ignored after <see cref="ShutDown"/>.</summary>
    public void Add(TKey key)
    {
        lock (gate)
        {
            if (shuttingDown || !dirty.Add(key) || processing.Contains(key))
            {
                return;
            }

            queue.Enqueue(key);
            WakeOne();
        }
    }

    /// <summary>
    /// Queues <paramref name="key"/> after <paramref name="delay"/>. A key already waiting keeps the earlier of its two due
    /// times, as client-go's delaying queue does.
    /// </summary>
    public void AddAfter(TKey key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }

        lock (gate)
        {
            if (shuttingDown)
            {
                return;
            }

            var due = time.GetUtcNow() + delay;
            if (delayed.TryGetValue(key, out var existing))
            {
                if (existing.Due <= due)
                {
                    return;
                }

                existing.Timer.Dispose();
            }

            var entry = new Delayed(due);
            delayed[key] = entry;
            entry.Timer = time.CreateTimer(_ => Fire(key, entry), null, delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Queues <paramref name="key"/> after its rate limiter's next backoff.</summary>
    public void AddRateLimited(TKey key) => AddAfter(key, RateLimiter.When(key));

    /// <summary>Resets <paramref name="key"/>'s backoff: call it when the key was processed successfully.</summary>
    public void Forget(TKey key) => RateLimiter.Forget(key);

    /// <summary>
    /// Waits, without polling, for a key and hands it to the caller, who must call <see cref="Done"/> with it. Returns null
    /// once the queue is shut down and every queued key has been handed out.
    /// </summary>
    public async Task<WorkItem<TKey>?> GetAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TaskCompletionSource waiter;
            lock (gate)
            {
                if (queue.TryDequeue(out var key))
                {
                    processing.Add(key);
                    dirty.Remove(key);
                    return new WorkItem<TKey>(key);
                }

                if (shuttingDown)
                {
                    return null;
                }

                waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                waiters.Enqueue(waiter);
            }

            using (cancellationToken.Register(static state => ((TaskCompletionSource)state!).TrySetCanceled(), waiter))
            {
                await waiter.Task.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Marks <paramref name="key"/> as processed; if it was added meanwhile, it is queued again now.</summary>
    public void Done(TKey key)
    {
        lock (gate)
        {
            processing.Remove(key);
            if (dirty.Contains(key))
            {
                queue.Enqueue(key);
                WakeOne();
            }
        }
    }

    /// <summary>
    /// Stops accepting keys and drops pending delays; keys already queued are still handed out (the queue drains), after
    /// which <see cref="GetAsync"/> returns null to every worker.
    /// </summary>
    public void ShutDown()
    {
        List<TaskCompletionSource> wake;
        lock (gate)
        {
            shuttingDown = true;
            foreach (var entry in delayed.Values)
            {
                entry.Timer.Dispose();
            }

            delayed.Clear();
            wake = [.. waiters];
            waiters.Clear();
        }

        foreach (var waiter in wake)
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Shuts the queue down.</summary>
    public void Dispose() => ShutDown();

    private void Fire(TKey key, Delayed entry)
    {
        lock (gate)
        {
            if (!delayed.TryGetValue(key, out var current) || current != entry)
            {
                return;
            }

            delayed.Remove(key);
            entry.Timer.Dispose();
        }

        Add(key);
    }

    // Called under the lock: wakes the first waiter that is still waiting (a cancelled one cannot be woken). Waiters
    // continue asynchronously, so completing one here runs none of its code under the lock.
    private void WakeOne()
    {
        while (waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult())
            {
                return;
            }
        }
    }

    private sealed class Delayed(DateTimeOffset due)
    {
        public DateTimeOffset Due { get; } = due;

        public ITimer Timer { get; set; } = null!;
    }
}

/// <summary>A key handed to a worker by <see cref="WorkQueue{TKey}.GetAsync"/>.</summary>
/// <param name="Key">The key to process; pass it to <see cref="WorkQueue{TKey}.Done"/> afterwards.</param>
public readonly record struct WorkItem<TKey>(TKey Key);
