using System.Net;
using DeepSeekOperator.Serving.Discovery.Internal;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Discovery;

/// <summary>
/// Finds each shard's replicas in the EndpointSlices of its Service, listed once and then watched through the
/// Kubernetes API with one label selector for all shards. Only ready endpoints count (condition <c>ready</c>
/// true or absent). A watch that ends is resumed from the last resourceVersion seen; one that has expired
/// (410 Gone) is replaced by a fresh list. Needs get, list and watch on <c>endpointslices</c> in the namespace.
/// </summary>
public sealed class EndpointSliceShardResolver : IShardResolver
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";
    private readonly IKubernetes client;
    private readonly EndpointSliceShardResolverOptions options;
    private readonly ILogger logger;
    private readonly TimeProvider time;
    private readonly Latest<ShardEndpoints> latest;
    private readonly Dictionary<string, int> shardOfService;
    private readonly string labelSelector;
    private readonly Dictionary<string, V1EndpointSlice> slices = [];

    /// <summary>Creates a resolver; nothing is listed before <see cref="RunAsync"/>.</summary>
    /// <param name="client">A client allowed to list and watch EndpointSlices in the namespace.</param>
    /// <param name="options">Which slices to watch.</param>
    /// <param name="logger">Where changes, expired watches and failures are logged.</param>
    /// <param name="time">The clock behind the retry delay; the system clock when null.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public EndpointSliceShardResolver(IKubernetes client, EndpointSliceShardResolverOptions options, ILogger<EndpointSliceShardResolver> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        this.client = client;
        this.options = options;
        this.logger = logger;
        this.time = time ?? TimeProvider.System;
        latest = new Latest<ShardEndpoints>(ShardEndpoints.None(options.Shards));
        shardOfService = Enumerable.Range(0, options.Shards).ToDictionary(options.ServiceName);
        labelSelector = $"{ServiceNameLabel} in ({string.Join(",", shardOfService.Keys)})";
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
        string? resourceVersion = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                resourceVersion ??= await ListAsync(cancellationToken).ConfigureAwait(false);
                resourceVersion = await WatchOnceAsync(resourceVersion, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Gone)
            {
                DiscoveryLog.WatchExpired(logger, resourceVersion ?? "");
                resourceVersion = null;
            }
            catch (Exception e)
            {
                DiscoveryLog.WatchFailed(logger, options.Namespace, options.RetryDelay, e);
                try
                {
                    await Task.Delay(options.RetryDelay, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Lists the slices afresh, publishes them, and returns the list's resourceVersion.</summary>
    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var list = await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(
            options.Namespace, labelSelector: labelSelector, cancellationToken: cancellationToken).ConfigureAwait(false);
        slices.Clear();
        foreach (var slice in list.Items)
        {
            slices[slice.Metadata.Name] = slice;
        }

        Publish();
        return list.Metadata.ResourceVersion;
    }

    /// <summary>
    /// Watches from <paramref name="resourceVersion"/> until the server ends the watch; returns the resourceVersion
    /// to resume from, or null when the watch expired and the slices must be listed again.
    /// </summary>
    private async Task<string?> WatchOnceAsync(string resourceVersion, CancellationToken cancellationToken)
    {
        var expired = false;
        var events = client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(
            options.Namespace,
            allowWatchBookmarks: true,
            labelSelector: labelSelector,
            resourceVersion: resourceVersion,
            timeoutSeconds: (int)options.WatchTimeout.TotalSeconds,
            onError: error =>
            {
                if (error is KubernetesException { Status.Code: (int)HttpStatusCode.Gone })
                {
                    expired = true;
                }
                else
                {
                    DiscoveryLog.WatchError(logger, error);
                }
            },
            cancellationToken: cancellationToken);
        try
        {
            await foreach (var (type, slice) in events.ConfigureAwait(false))
            {
                resourceVersion = slice.Metadata.ResourceVersion;
                switch (type)
                {
                    case WatchEventType.Added or WatchEventType.Modified:
                        slices[slice.Metadata.Name] = slice;
                        Publish();
                        break;
                    case WatchEventType.Deleted:
                        slices.Remove(slice.Metadata.Name);
                        Publish();
                        break;
                    default:
                        break;
                }
            }
        }
        catch (HttpRequestException e) when (e.InnerException is IOException && !cancellationToken.IsCancellationRequested)
        {
            // The connection closed mid-stream, as when a server ends a watch at its timeout: resume, as client-go does on an unexpected EOF.
            DiscoveryLog.WatchClosed(logger, resourceVersion, e);
        }

        if (expired)
        {
            DiscoveryLog.WatchExpired(logger, resourceVersion);
            return null;
        }

        return resourceVersion;
    }

    private void Publish()
    {
        var replicas = Enumerable.Range(0, options.Shards).Select(_ => new List<ShardEndpoint>()).ToList();
        foreach (var slice in slices.Values)
        {
            if (slice.Metadata.Labels?.TryGetValue(ServiceNameLabel, out var service) != true
                || !shardOfService.TryGetValue(service!, out var shard)
                || Port(slice) is not { } port)
            {
                continue;
            }

            replicas[shard].AddRange((slice.Endpoints ?? [])
                .Where(e => e.Conditions?.Ready != false && e.Addresses is { Count: > 0 })
                .Select(e => new ShardEndpoint(e.Addresses[0], port)));
        }

        var endpoints = new ShardEndpoints(replicas);
        if (latest.Publish(endpoints))
        {
            DiscoveryLog.EndpointsChanged(logger, "EndpointSlices", endpoints);
        }
    }

    /// <summary>The slice's port named <see cref="EndpointSliceShardResolverOptions.PortName"/>, or its only port when no name is set.</summary>
    private int? Port(V1EndpointSlice slice)
    {
        var ports = slice.Ports ?? [];
        var chosen = options.PortName is null
            ? (ports.Count == 1 ? ports[0] : null)
            : ports.FirstOrDefault(p => p.Name == options.PortName);
        return chosen?.Port;
    }
}
