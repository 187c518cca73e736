using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Runtime.Internal;

/// <summary>The controller runtime's log messages.</summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(1, LogLevel.Debug, "Listed {Resource}: {Count} objects at resourceVersion {ResourceVersion}")]
    public static partial void Listed(ILogger logger, string resource, int count, string resourceVersion);

    [LoggerMessage(2, LogLevel.Information, "Watch of {Resource} from resourceVersion {ResourceVersion} expired (410 Gone); re-listing")]
    public static partial void WatchExpired(ILogger logger, string resource, string? resourceVersion);

    [LoggerMessage(3, LogLevel.Warning, "List or watch of {Resource} failed; re-listing in {Delay}")]
    public static partial void ListWatchFailed(ILogger logger, string resource, TimeSpan delay, Exception exception);

    [LoggerMessage(4, LogLevel.Error, "An event handler of {Resource} threw")]
    public static partial void HandlerFailed(ILogger logger, string resource, Exception exception);

    [LoggerMessage(5, LogLevel.Information, "Waiting for {Count} caches to sync")]
    public static partial void WaitingForCaches(ILogger logger, int count);

    [LoggerMessage(6, LogLevel.Information, "Caches synced; starting {Workers} workers")]
    public static partial void Started(ILogger logger, int workers);

    [LoggerMessage(7, LogLevel.Error, "Reconcile of {Key} failed: {Error}; retrying in {Delay}")]
    public static partial void ReconcileFailed(ILogger logger, string key, string error, TimeSpan delay);

    [LoggerMessage(8, LogLevel.Error, "Reconcile of {Key} threw; retrying in {Delay}")]
    public static partial void ReconcileThrew(ILogger logger, string key, TimeSpan delay, Exception exception);

    [LoggerMessage(9, LogLevel.Information, "Stopping: waiting up to {Timeout} for reconciles in flight")]
    public static partial void Stopping(ILogger logger, TimeSpan timeout);

    [LoggerMessage(10, LogLevel.Warning, "Reconciles still in flight after {Timeout}; cancelling them")]
    public static partial void ShutdownTimedOut(ILogger logger, TimeSpan timeout);
}
