namespace DeepSeekOperator.Controller.Runtime;

/// <summary>How a <see cref="ReconcileController"/> runs its workers.</summary>
public sealed record ControllerOptions
{
    /// <summary>
    /// The controller's name, the <c>controller</c> label of its metrics (as controller-runtime labels them), so that
    /// the controllers of one operator sharing a registry are told apart: lowercase letters, digits and <c>-</c>.
    /// </summary>
    public required string Name { get; init; }

    /// <summary>How many keys are reconciled at once (each key by one worker at a time).</summary>
    public int Workers { get; init; } = 4;

    /// <summary>How long shutdown waits for reconciles in flight before cancelling them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Name) || Name.Length > 63 || !Name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw new ArgumentOutOfRangeException(nameof(Name), Name, "Name must be 1 to 63 lowercase letters, digits or '-'.");
        }

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
