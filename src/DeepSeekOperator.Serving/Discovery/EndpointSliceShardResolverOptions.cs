using System.Globalization;

namespace DeepSeekOperator.Serving.Discovery;

/// <summary>Which EndpointSlices <see cref="EndpointSliceShardResolver"/> watches: those of the Services <c>&lt;model&gt;-shard-&lt;k&gt;</c>.</summary>
public sealed record EndpointSliceShardResolverOptions
{
    /// <summary>The model's name, the prefix of every shard Service.</summary>
    public required string Model { get; init; }

    /// <summary>The namespace of the shard Services and their EndpointSlices.</summary>
    public required string Namespace { get; init; }

    /// <summary>How many shards there are.</summary>
    public required int Shards { get; init; }

    /// <summary>The name of the slice port that serves ExpertShard; when null, a slice's only port.</summary>
    public string? PortName { get; init; }

    /// <summary>How long one watch request lasts before it is resumed from the last resourceVersion seen.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long to wait before listing or watching again after a failure.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The name of the Service of <paramref name="shard"/>, the <c>kubernetes.io/service-name</c> label of its slices.</summary>
    public string ServiceName(int shard) => string.Create(CultureInfo.InvariantCulture, $"{Model}-shard-{shard}");

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">The message names the option.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Model))
        {
            throw new ArgumentException("model must not be empty", nameof(Model));
        }

        if (string.IsNullOrWhiteSpace(Namespace))
        {
            throw new ArgumentException("namespace must not be empty", nameof(Namespace));
        }

        if (Shards < 1)
        {
            throw new ArgumentException($"shards must be at least 1, got {Shards}", nameof(Shards));
        }

        if (PortName is { Length: 0 })
        {
            throw new ArgumentException("portName must not be empty; leave it unset to take a slice's only port", nameof(PortName));
        }

        if (WatchTimeout < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"watchTimeout must be at least 1 s, got {WatchTimeout}", nameof(WatchTimeout));
        }

        if (RetryDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException($"retryDelay must be positive, got {RetryDelay}", nameof(RetryDelay));
        }
    }
}
