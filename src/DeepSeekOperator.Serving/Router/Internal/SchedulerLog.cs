using DeepSeekOperator.Moe;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Router.Internal;

/// <summary>The continuous-batching scheduler's log messages.</summary>
internal static partial class SchedulerLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {Request} joined the batch with a prompt of {PromptTokens} tokens; {Running} sequences running")]
    public static partial void Admitted(ILogger logger, long request, int promptTokens, int running);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {Request} finished ({Reason}) after {GeneratedTokens} tokens")]
    public static partial void Finished(ILogger logger, long request, FinishReason reason, int generatedTokens);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {Request} was cancelled after {GeneratedTokens} tokens")]
    public static partial void Cancelled(ILogger logger, long request, int generatedTokens);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A step of {Sequences} sequences ({Tokens} tokens) failed; those requests fail with it")]
    public static partial void StepFailed(ILogger logger, int sequences, int tokens, Exception error);
}
