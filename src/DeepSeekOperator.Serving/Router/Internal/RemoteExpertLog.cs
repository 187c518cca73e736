using DeepSeekOperator.Serving.Discovery;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Router.Internal;

/// <summary>The log messages of the router's remote expert executor.</summary>
internal static partial class RemoteExpertLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Opened a channel to shard {Shard} replica {Endpoint}")]
    public static partial void ReplicaAdded(ILogger logger, int shard, ShardEndpoint endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed the channel to shard {Shard} replica {Endpoint}: it left the resolver's replicas")]
    public static partial void ReplicaRemoved(ILogger logger, int shard, ShardEndpoint endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call to shard {Shard} replica {Endpoint} (layer {Layer}, placement revision {Revision}) failed: {Reason}")]
    public static partial void CallFailed(ILogger logger, int shard, ShardEndpoint endpoint, int layer, long revision, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Probe of shard {Shard} replica {Endpoint} failed")]
    public static partial void ProbeFailed(ILogger logger, int shard, ShardEndpoint endpoint, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard} replica {Endpoint} serves placement revisions {Revisions}")]
    public static partial void ReplicaServes(ILogger logger, int shard, ShardEndpoint endpoint, IReadOnlyList<long> revisions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Placement revision {Revision} received; dispatching with revision {Current} until every shard has a replica serving it")]
    public static partial void PlacementPending(ILogger logger, long revision, long current);

    [LoggerMessage(Level = LogLevel.Information, Message = "Switched from placement revision {Previous} to revision {Revision}: every shard has a replica serving it")]
    public static partial void PlacementSwitched(ILogger logger, long previous, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Placement revision {Revision} ignored: {Reason}")]
    public static partial void PlacementIgnored(ILogger logger, long revision, string reason);
}
