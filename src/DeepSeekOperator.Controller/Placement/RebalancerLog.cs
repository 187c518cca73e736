using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>The rebalancer's log messages.</summary>
internal static partial class RebalancerLog
{
    [LoggerMessage(701, LogLevel.Warning, "No placement change for {Key}: {Message}")]
    public static partial void LoadUnavailable(ILogger logger, string key, string message);

    [LoggerMessage(702, LogLevel.Information, "Rolling out placement revision {Revision} of {Key}: imbalance {Before} to {After}; shard 0 first")]
    public static partial void RolloutStarted(ILogger logger, string key, long revision, double before, double after);

    [LoggerMessage(703, LogLevel.Information, "Placement revision {Revision} of {Key} given to shard {Shard}")]
    public static partial void ShardGiven(ILogger logger, string key, long revision, int shard);

    [LoggerMessage(704, LogLevel.Information, "Placement revision {Revision} of {Key} published to the routers: every shard serves it")]
    public static partial void Published(ILogger logger, string key, long revision);

    [LoggerMessage(705, LogLevel.Warning, "{Key}: {Message}")]
    public static partial void Stalled(ILogger logger, string key, string message);

    [LoggerMessage(706, LogLevel.Debug, "Conflict writing the placement or status of {Key}; retried")]
    public static partial void Conflict(ILogger logger, string key);
}
