namespace DeepSeekOperator.Serving.Discovery;

/// <summary>Where <see cref="DnsShardResolver"/> looks: one headless Service per shard, whose A records are its ready pods.</summary>
public sealed record DnsShardResolverOptions
{
    /// <summary>The model's name, the prefix of every shard Service.</summary>
    public required string Model { get; init; }

    /// <summary>The namespace of the shard Services.</summary>
    public required string Namespace { get; init; }

    /// <summary>How many shards there are.</summary>
    public required int Shards { get; init; }

    /// <summary>The port every replica serves ExpertShard on (headless A records carry no port).</summary>
    public required int Port { get; init; }

    /// <summary>How often the names are looked up again.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The name to look up for a shard; <c>{model}</c>, <c>{shard}</c> and <c>{namespace}</c> are replaced.</summary>
    public string HostNameTemplate { get; init; } = "{model}-shard-{shard}.{namespace}.svc";

    /// <summary>The name looked up for <paramref name="shard"/>.</summary>
    public string HostName(int shard) => HostNameTemplate
        .Replace("{model}", Model, StringComparison.Ordinal)
        .Replace("{namespace}", Namespace, StringComparison.Ordinal)
        .Replace("{shard}", shard.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

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

        if (Port is < 1 or > 65535)
        {
            throw new ArgumentException($"port must be in [1, 65535], got {Port}", nameof(Port));
        }

        if (Interval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"interval must be positive, got {Interval}", nameof(Interval));
        }

        if (Shards > 1 && !HostNameTemplate.Contains("{shard}", StringComparison.Ordinal))
        {
            throw new ArgumentException($"hostNameTemplate '{HostNameTemplate}' must contain {{shard}} when there are {Shards} shards", nameof(HostNameTemplate));
        }

        if (Uri.CheckHostName(HostName(0)) != UriHostNameType.Dns)
        {
            throw new ArgumentException($"hostNameTemplate gives '{HostName(0)}' for shard 0, not a DNS name", nameof(HostNameTemplate));
        }
    }
}
