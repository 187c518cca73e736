using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>The OpenAI-compatible API's log messages.</summary>
internal static partial class OpenAiLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} {Path} answered {Status}: {Reason}")]
    public static partial void GenerationFailed(ILogger logger, string method, string path, int status, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, string method, string path, Exception exception);
}
