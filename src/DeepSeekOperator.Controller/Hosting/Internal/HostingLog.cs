using System.Net;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Hosting.Internal;

/// <summary>The operator host's log messages.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(1, LogLevel.Information, "Operator {Identity} serving /healthz, /readyz and /metrics on {Endpoint}; electing a leader on Lease {Lease}")]
    public static partial void Listening(ILogger logger, string identity, IPEndPoint endpoint, string lease);

    [LoggerMessage(2, LogLevel.Information, "Became leader on Lease {Lease}; starting {Controllers} controllers")]
    public static partial void StartedLeading(ILogger logger, string lease, int controllers);

    [LoggerMessage(3, LogLevel.Information, "Stopped leading on Lease {Lease}; stopping the controllers")]
    public static partial void StoppedLeading(ILogger logger, string lease);

    [LoggerMessage(4, LogLevel.Information, "Lease {Lease} is held by {Leader}")]
    public static partial void NewLeader(ILogger logger, string lease, string leader);

    [LoggerMessage(5, LogLevel.Warning, "Leader election on Lease {Lease} failed; trying again in {Delay}")]
    public static partial void ElectionFailed(ILogger logger, string lease, TimeSpan delay, Exception exception);

    [LoggerMessage(6, LogLevel.Error, "Lost leadership on Lease {Lease}; stopping the operator")]
    public static partial void LostLeadership(ILogger logger, string lease);

    [LoggerMessage(7, LogLevel.Warning, "Lost leadership on Lease {Lease}; standing by for it again")]
    public static partial void StandingBy(ILogger logger, string lease);

    [LoggerMessage(8, LogLevel.Error, "A controller failed; stopping the operator")]
    public static partial void ControllerFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Information, "Released Lease {Lease}")]
    public static partial void Released(ILogger logger, string lease);

    [LoggerMessage(10, LogLevel.Warning, "Could not release Lease {Lease}; it expires after its duration")]
    public static partial void ReleaseFailed(ILogger logger, string lease, Exception? exception);

    [LoggerMessage(11, LogLevel.Debug, "Leader election on Lease {Lease} reported an error")]
    public static partial void ElectionError(ILogger logger, string lease, Exception exception);
}
