using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Discovery.Internal;

/// <summary>The log messages of shard discovery and the placement watcher.</summary>
internal static partial class DiscoveryLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Shard replicas from {Source} changed: {Endpoints}")]
    public static partial void EndpointsChanged(ILogger logger, string source, ShardEndpoints endpoints);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking up {HostName} for shard {Shard} failed; keeping its replicas as they were")]
    public static partial void LookupFailed(ILogger logger, string hostName, int shard, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "EndpointSlice watch from resourceVersion {ResourceVersion} expired (410 Gone); listing again")]
    public static partial void WatchExpired(ILogger logger, string resourceVersion);

    [LoggerMessage(Level = LogLevel.Debug, Message = "EndpointSlice watch stream closed early; resuming from resourceVersion {ResourceVersion}")]
    public static partial void WatchClosed(ILogger logger, string resourceVersion, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "EndpointSlice watch reported an error")]
    public static partial void WatchError(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listing or watching EndpointSlices in {Namespace} failed; trying again in {Delay}")]
    public static partial void WatchFailed(ILogger logger, string @namespace, TimeSpan delay, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Placement revision {Revision} of model '{ModelId}' loaded from {Path}")]
    public static partial void PlacementLoaded(ILogger logger, long revision, string modelId, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Placement file {Path} read again after a change in its directory; the placement is unchanged (revision {Revision})")]
    public static partial void PlacementUnchanged(ILogger logger, string path, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placement file {Path} rejected, keeping revision {Revision}: {Reason}")]
    public static partial void PlacementRejected(ILogger logger, string path, long revision, string reason);
}
