namespace DeepSeekOperator.Controller.Runtime;

/// <summary>Converges one object's world towards its spec (level-triggered: it is given only the key, and reads the rest).</summary>
public interface IReconciler
{
    /// <summary>Reconciles the object named by <paramref name="key"/>, which may no longer exist.</summary>
    Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken);
}

/// <summary>What a reconcile asks of the controller: nothing more, a later look, or a retry with backoff.</summary>
public sealed record ReconcileResult
{
    private ReconcileResult(ReconcileOutcome outcome, TimeSpan requeueAfter, string? error)
    {
        Outcome = outcome;
        RequeueAfter = requeueAfter;
        Error = error;
    }

    /// <summary>Converged: the key's backoff is reset and it is not queued again until something changes.</summary>
    public static ReconcileResult Done { get; } = new(ReconcileOutcome.Done, TimeSpan.Zero, null);

    /// <summary>Which of the three results this is.</summary>
    public ReconcileOutcome Outcome { get; }

    /// <summary>For <see cref="ReconcileOutcome.Requeue"/>, how long to wait before reconciling again.</summary>
    public TimeSpan RequeueAfter { get; }

    /// <summary>For <see cref="ReconcileOutcome.Error"/>, what went wrong.</summary>
    public string? Error { get; }

    /// <summary>Not converged yet but nothing failed (a rollout in progress): reconcile again after <paramref name="delay"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    public static ReconcileResult Requeue(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new ReconcileResult(ReconcileOutcome.Requeue, delay, null);
    }

    /// <summary>A failure worth retrying: the key is queued again after its exponential backoff.</summary>
    public static ReconcileResult Failed(string error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(error);
        return new ReconcileResult(ReconcileOutcome.Error, TimeSpan.Zero, error);
    }
}

/// <summary>The kinds of <see cref="ReconcileResult"/>.</summary>
public enum ReconcileOutcome
{
    /// <summary>Converged.</summary>
    Done,

    /// <summary>Look again after a delay.</summary>
    Requeue,

    /// <summary>Failed; retry with backoff.</summary>
    Error,
}
