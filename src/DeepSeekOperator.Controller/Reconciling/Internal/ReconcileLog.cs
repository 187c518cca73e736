using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>The DeepSeekModel reconciler's log messages.</summary>
internal static partial class ReconcileLog
{
    [LoggerMessage(301, LogLevel.Information, "Created {Kind} {Key}")]
    public static partial void Created(ILogger logger, string kind, string key);

    [LoggerMessage(302, LogLevel.Information, "Updated {Kind} {Key}: it differed from its spec")]
    public static partial void Updated(ILogger logger, string kind, string key);

    [LoggerMessage(303, LogLevel.Warning, "DeepSeekModel {Key} cannot be served: {Reason}: {Message}")]
    public static partial void NotServable(ILogger logger, string key, string reason, string message);

    [LoggerMessage(304, LogLevel.Debug, "Conflict writing {What} of {Key}; requeued")]
    public static partial void Conflict(ILogger logger, string what, string key);

    [LoggerMessage(305, LogLevel.Warning, "Could not record event {Reason} about {Key}")]
    public static partial void EventFailed(ILogger logger, string reason, string key, Exception exception);

    [LoggerMessage(306, LogLevel.Debug, "Status of {Key} written: phase {Phase}")]
    public static partial void StatusWritten(ILogger logger, string key, string phase);

    [LoggerMessage(307, LogLevel.Information, "Deleted {Kind} {Key}: it read an earlier source of the model")]
    public static partial void Deleted(ILogger logger, string kind, string key);

    [LoggerMessage(308, LogLevel.Information, "Deleted {Kind} {Key}: the model's spec no longer has it")]
    public static partial void Pruned(ILogger logger, string kind, string key);
}
