using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Autoscaling.Internal;

/// <summary>The autoscaler's log messages.</summary>
internal static partial class AutoscalerLog
{
    [LoggerMessage(401, LogLevel.Information, "Scaled {Key} {Component}: {Message}")]
    public static partial void Scaled(ILogger logger, string key, string component, string message);

    [LoggerMessage(402, LogLevel.Warning, "No metric for {Key} {Component}; its replicas are left as they are: {Error}")]
    public static partial void MetricsUnavailable(ILogger logger, string key, string component, string error);

    [LoggerMessage(404, LogLevel.Information, "Stopped autoscaling {Key}: autoscaling is off or the model is gone")]
    public static partial void Stopped(ILogger logger, string key);
}
