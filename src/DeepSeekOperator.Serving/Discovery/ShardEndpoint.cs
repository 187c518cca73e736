using System.Globalization;

namespace DeepSeekOperator.Serving.Discovery;

/// <summary>One replica of an expert shard: a host name or IP address and the port its ExpertShard service listens on.</summary>
public sealed record ShardEndpoint
{
    /// <summary>Creates an endpoint; IPv6 addresses are given without brackets.</summary>
    /// <exception cref="ArgumentException">The host is empty or not a valid host name or address, or the port is outside [1, 65535].</exception>
    public ShardEndpoint(string host, int port)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            throw new ArgumentException($"host '{host}' is not a host name or IP address", nameof(host));
        }

        if (port is < 1 or > 65535)
        {
            throw new ArgumentException($"port must be in [1, 65535], got {port}", nameof(port));
        }

        Host = host;
        Port = port;
    }

    /// <summary>The host name or IP address (IPv6 without brackets).</summary>
    public string Host { get; }

    /// <summary>The TCP port.</summary>
    public int Port { get; }

    /// <summary>The address to dial over HTTP/2 without TLS, e.g. <c>http://10.0.0.7:9000</c>.</summary>
    public Uri Address => new($"http://{this}");

    /// <summary>Reads <c>host:port</c> or <c>[ipv6]:port</c>.</summary>
    /// <param name="text">The endpoint.</param>
    /// <param name="field">What the text is, for messages (an option name).</param>
    /// <exception cref="FormatException">The text is not an endpoint; the message names <paramref name="field"/>.</exception>
    public static ShardEndpoint Parse(string text, string field)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            throw new FormatException($"{field}: endpoint '{text}' is not host:port");
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            throw new FormatException($"{field}: endpoint '{text}' has an IPv6 address without brackets, write [address]:port");
        }

        if (!int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new FormatException($"{field}: endpoint '{text}' has port '{text[(colon + 1)..]}', expected a number");
        }

        try
        {
            return new ShardEndpoint(host, port);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"{field}: endpoint '{text}': {e.Message.Split(" (Parameter", 2)[0]}", e);
        }
    }

    /// <summary><c>host:port</c>, with brackets around an IPv6 address.</summary>
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal)
        ? string.Create(CultureInfo.InvariantCulture, $"[{Host}]:{Port}")
        : string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");
}
