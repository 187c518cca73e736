namespace DeepSeekOperator.Controller.Runtime;

/// <summary>How a <see cref="ReconcileController"/> runs its workers.</summary>
public sealed record ControllerOptions
{
    /// <summary>How many keys are reconciled at once (each key by one worker at a time).</summary>
    public int Workers { get; init; } = 4;

    /// <summary>How long shutdown waits for reconciles in flight before cancelling them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        if (Workers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "Workers must be at least 1.");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), ShutdownTimeout, "ShutdownTimeout must not be negative.");
        }
    }
}
