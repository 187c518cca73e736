namespace DeepSeekOperator.Serving.Router;

/// <summary>A request was refused because the scheduler's bounded queue is full; the API answers 429.</summary>
public sealed class QueueFullException : Exception
{
    /// <summary>Creates the exception for a queue of <paramref name="capacity"/> requests.</summary>
    public QueueFullException(int capacity)
        : base($"the router's queue of {capacity} requests is full; retry later")
    {
        Capacity = capacity;
    }

    /// <summary>How many requests the queue holds.</summary>
    public int Capacity { get; }
}
