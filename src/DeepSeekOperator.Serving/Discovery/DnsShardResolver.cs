using System.Net;
using System.Net.Sockets;
using DeepSeekOperator.Serving.Discovery.Internal;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Discovery;

/// <summary>
/// Finds each shard's replicas through the A/AAAA records of its headless Service, looked up again every
/// <see cref="DnsShardResolverOptions.Interval"/>. A name that does not exist (a Service with no ready pod)
/// means no replicas; any other lookup failure keeps the replicas last seen for that shard.
/// </summary>
public sealed class DnsShardResolver : IShardResolver
{
    private readonly DnsShardResolverOptions options;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> lookup;
    private readonly Latest<ShardEndpoints> latest;

    /// <summary>Creates a resolver; nothing is looked up before <see cref="RunAsync"/>.</summary>
    /// <param name="options">The names to look up and how often.</param>
    /// <param name="logger">Where changes and failed lookups are logged.</param>
    /// <param name="time">The clock behind the interval; the system clock when null.</param>
    /// <param name="lookup">Looks a name up; <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/> when null.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public DnsShardResolver(
        DnsShardResolverOptions options,
        ILogger<DnsShardResolver> logger,
        TimeProvider? time = null,
        Func<string, CancellationToken, Task<IPAddress[]>>? lookup = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        this.options = options;
        this.logger = logger;
        this.time = time ?? TimeProvider.System;
        this.lookup = lookup ?? Dns.GetHostAddressesAsync;
        latest = new Latest<ShardEndpoints>(ShardEndpoints.None(options.Shards));
    }

    /// <inheritdoc/>
    public int Shards => options.Shards;

    /// <inheritdoc/>
    public ShardEndpoints Current => latest.Current;

    /// <inheritdoc/>
    public IAsyncEnumerable<ShardEndpoints> WatchAsync(CancellationToken cancellationToken) => latest.WatchAsync(cancellationToken);

    /// <inheritdoc/>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await ResolveAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(options.Interval, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Looks every shard's name up once, in parallel, and publishes the result.</summary>
    private async Task ResolveAsync(CancellationToken cancellationToken)
    {
        var previous = latest.Current;
        var shards = await Task.WhenAll(Enumerable.Range(0, options.Shards)
            .Select(shard => ResolveShardAsync(shard, previous[shard], cancellationToken))).ConfigureAwait(false);
        var endpoints = new ShardEndpoints(shards);
        if (latest.Publish(endpoints))
        {
            DiscoveryLog.EndpointsChanged(logger, "dns", endpoints);
        }
    }

    private async Task<IReadOnlyList<ShardEndpoint>> ResolveShardAsync(int shard, IReadOnlyList<ShardEndpoint> previous, CancellationToken cancellationToken)
    {
        var name = options.HostName(shard);
        try
        {
            var addresses = await lookup(name, cancellationToken).ConfigureAwait(false);
            return [.. addresses.Select(a => new ShardEndpoint(a.ToString(), options.Port))];
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
        {
            return [];
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            DiscoveryLog.LookupFailed(logger, name, shard, e);
            return previous;
        }
    }
}
