namespace DeepSeekOperator.Serving.Router;

/// <summary>The limits of the router's continuous-batching scheduler.</summary>
public sealed record SchedulerOptions
{
    /// <summary>The most tokens one step runs through the model: one per decoding sequence plus every prompt being prefilled.</summary>
    public int MaxBatchTokens { get; init; } = 8192;

    /// <summary>The most sequences in the running batch.</summary>
    public int MaxConcurrentRequests { get; init; } = 256;

    /// <summary>The most requests waiting to join the batch; one more is refused (429).</summary>
    public int MaxQueuedRequests { get; init; } = 1024;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentException">A limit is out of range; the message names it.</exception>
    public void Validate()
    {
        if (MaxBatchTokens < 1)
        {
            throw new ArgumentException($"maxBatchTokens must be at least 1, got {MaxBatchTokens}");
        }

        if (MaxConcurrentRequests < 1)
        {
            throw new ArgumentException($"maxConcurrentRequests must be at least 1, got {MaxConcurrentRequests}");
        }

        if (MaxQueuedRequests < 1)
        {
            throw new ArgumentException($"maxQueuedRequests must be at least 1, got {MaxQueuedRequests}");
        }
    }
}
