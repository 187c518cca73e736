using System.Text.Json;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>An answer in OpenAI's error shape: <c>{"error":{"message","type","param","code"}}</c> with its HTTP status.</summary>
internal sealed class OpenAiErrorException(int status, string message, string type, string? param, string? code, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The HTTP status code.</summary>
    public int Status { get; } = status;

    /// <summary>OpenAI's <c>type</c>, e.g. <c>invalid_request_error</c>.</summary>
    public string Type { get; } = type;

    /// <summary>The request field at fault, when one is.</summary>
    public string? Param { get; } = param;

    /// <summary>OpenAI's <c>code</c>, e.g. <c>model_not_found</c>.</summary>
    public string? Code { get; } = code;

    /// <summary>A 400 for a bad request field.</summary>
    public static OpenAiErrorException Invalid(string? param, string message) => new(400, message, "invalid_request_error", param, null);

    /// <summary>The answer for a failure of generation, or <see langword="null"/> when it is not one the API expects.</summary>
    public static OpenAiErrorException? From(Exception exception) => exception switch
    {
        OpenAiErrorException known => known,
        QueueFullException full => new(429, full.Message, "rate_limit_exceeded", null, "rate_limit_exceeded", full),
        ShardUnavailableException shard => new(503, shard.Message, "server_error", null, "shard_unavailable", shard),
        _ => null,
    };

    /// <summary>A 500 that tells nothing of the failure but that it happened.</summary>
    public static OpenAiErrorException Internal(Exception exception) =>
        new(500, "The server had an error while processing your request.", "server_error", null, null, exception);

    /// <summary>Writes <c>{"error":{…}}</c>.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", Message);
        writer.WriteString("type", Type);
        writer.WriteString("param", Param);
        writer.WriteString("code", Code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
