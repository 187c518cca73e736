namespace DeepSeekOperator.Controller.Runtime;

/// <summary>
/// A per-key exponential backoff, ported from client-go's <c>ItemExponentialFailureRateLimiter</c> with jitter added:
/// the n-th failure of a key (counting from 0) waits <c>min(baseDelay · 2ⁿ, maxDelay)</c>, stretched by a random factor in
/// <c>[1, 1 + jitter]</c> and capped again at <c>maxDelay</c>. <see cref="Forget"/> starts the key over.
/// </summary>
public sealed class ExponentialRateLimiter<TKey>
    where TKey : notnull
{
    private readonly Lock gate = new();
    private readonly Dictionary<TKey, int> failures = [];
    private readonly Random random;

    /// <summary>Creates a limiter; <paramref name="random"/> (default: shared) draws the jitter.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A delay is not positive, the maximum is below the base, or the jitter is negative.</exception>
    public ExponentialRateLimiter(TimeSpan baseDelay, TimeSpan maxDelay, double jitter, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        ArgumentOutOfRangeException.ThrowIfNegative(jitter);
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        Jitter = jitter;
        this.random = random ?? Random.Shared;
    }

    /// <summary>Creates the controller default: 5 ms doubling up to 1000 s (controller-runtime's bounds), with up to 10% jitter.</summary>
    public ExponentialRateLimiter()
        : this(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000), 0.1)
    {
    }

    /// <summary>The delay after a key's first failure.</summary>
    public TimeSpan BaseDelay { get; }

    /// <summary>The longest delay.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>The largest fraction by which a delay is stretched at random.</summary>
    public double Jitter { get; }

    /// <summary>Records a failure of <paramref name="key"/> and returns how long to wait before retrying it.</summary>
    public TimeSpan When(TKey key)
    {
        int exponent;
        double draw;
        lock (gate)
        {
            exponent = failures.GetValueOrDefault(key);
            failures[key] = exponent + 1;
            draw = random.NextDouble();
        }

        // 2^exponent overflows a double's useful range long after it passes any cap, so compare in doubles.
        var ticks = Math.Min(BaseDelay.Ticks * Math.Pow(2, Math.Min(exponent, 62)), MaxDelay.Ticks);
        return TimeSpan.FromTicks((long)Math.Min(ticks * (1 + (Jitter * draw)), MaxDelay.Ticks));
    }

    /// <summary>How many failures of <paramref name="key"/> have been recorded since it was last forgotten.</summary>
    public int NumRequeues(TKey key)
    {
        lock (gate)
        {
            return failures.GetValueOrDefault(key);
        }
    }

    /// <summary>Forgets <paramref name="key"/>'s failures: its next failure waits <see cref="BaseDelay"/> again.</summary>
    public void Forget(TKey key)
    {
        lock (gate)
        {
            failures.Remove(key);
        }
    }
}
