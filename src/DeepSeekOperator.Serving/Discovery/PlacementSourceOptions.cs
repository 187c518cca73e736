namespace DeepSeekOperator.Serving.Discovery;

/// <summary>Where <see cref="PlacementSource"/> reads the placement, and how long it lets a burst of changes settle.</summary>
public sealed record PlacementSourceOptions
{
    /// <summary>The placement file, e.g. <c>/etc/dsop/placement/placement.json</c> in a mounted ConfigMap.</summary>
    public required string Path { get; init; }

    /// <summary>How long the directory must be quiet after a change before the file is read again.</summary>
    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">The message names the option.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            throw new ArgumentException("path must not be empty", nameof(Path));
        }

        if (Debounce < TimeSpan.Zero)
        {
            throw new ArgumentException($"debounce must not be negative, got {Debounce}", nameof(Debounce));
        }
    }
}
