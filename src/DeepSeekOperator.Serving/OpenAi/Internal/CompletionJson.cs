using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>What every object of one answer repeats: its id, kind, creation time and model.</summary>
/// <param name="Kind">The endpoint.</param>
/// <param name="Id"><c>chatcmpl-…</c> or <c>cmpl-…</c>.</param>
/// <param name="Created">Unix seconds.</param>
/// <param name="Model">The model id.</param>
internal sealed record ResponseHeader(CompletionKind Kind, string Id, long Created, string Model);

/// <summary>The completion objects OpenAI answers with, whole and as stream chunks, written as UTF-8 JSON.</summary>
internal static class CompletionJson
{
    /// <summary>Text as UTF-8 rather than <c>\uXXXX</c> escapes, as OpenAI sends it: the answers are JSON, never HTML.</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A whole <c>chat.completion</c> or <c>text_completion</c>.</summary>
    public static byte[] Completion(ResponseHeader header, string text, string finishReason, int promptTokens, int completionTokens) =>
        Write(writer =>
        {
            WriteHeader(writer, header, header.Kind == CompletionKind.Chat ? "chat.completion" : "text_completion");
            WriteChoices(writer, header.Kind, role: "assistant", text, finishReason, whole: true);
            WriteUsage(writer, promptTokens, completionTokens);
        });

    /// <summary>
    /// A stream chunk: <c>chat.completion.chunk</c> with a <c>delta</c> holding <paramref name="role"/> and <paramref name="text"/> when
    /// set, or <c>text_completion</c> with its <c>text</c>; <c>"usage": null</c> when the stream ends with a usage chunk.
    /// </summary>
    public static byte[] Chunk(ResponseHeader header, bool includeUsage, string? role, string? text, string? finishReason) =>
        Write(writer =>
        {
            WriteHeader(writer, header, ChunkObject(header));
            WriteChoices(writer, header.Kind, role, text, finishReason, whole: false);
            if (includeUsage)
            {
                writer.WriteNull("usage");
            }
        });

    /// <summary>The last chunk of a stream that asked for usage: no choices, and the counts.</summary>
    public static byte[] UsageChunk(ResponseHeader header, int promptTokens, int completionTokens) =>
        Write(writer =>
        {
            WriteHeader(writer, header, ChunkObject(header));
            writer.WriteStartArray("choices");
            writer.WriteEndArray();
            WriteUsage(writer, promptTokens, completionTokens);
        });

    /// <summary>An error object, <c>{"error":{…}}</c>.</summary>
    public static byte[] Error(OpenAiErrorException error)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            error.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>An object written by <paramref name="body"/> between its braces.</summary>
    public static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string ChunkObject(ResponseHeader header) => header.Kind == CompletionKind.Chat ? "chat.completion.chunk" : "text_completion";

    private static void WriteHeader(Utf8JsonWriter writer, ResponseHeader header, string objectName)
    {
        writer.WriteString("id", header.Id);
        writer.WriteString("object", objectName);
        writer.WriteNumber("created", header.Created);
        writer.WriteString("model", header.Model);
    }

    private static void WriteChoices(Utf8JsonWriter writer, CompletionKind kind, string? role, string? text, string? finishReason, bool whole)
    {
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        if (kind == CompletionKind.Text)
        {
            writer.WriteString("text", text ?? string.Empty);
        }
        else
        {
            writer.WriteStartObject(whole ? "message" : "delta");
            if (role is not null)
            {
                writer.WriteString("role", role);
            }

            if (text is not null)
            {
                writer.WriteString("content", text);
            }

            if (whole)
            {
                writer.WriteNull("refusal");
            }

            writer.WriteEndObject();
        }

        writer.WriteNull("logprobs");
        writer.WriteString("finish_reason", finishReason);
        writer.WriteEndObject();
        writer.WriteEndArray();
    }

    private static void WriteUsage(Utf8JsonWriter writer, int promptTokens, int completionTokens)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", promptTokens);
        writer.WriteNumber("completion_tokens", completionTokens);
        writer.WriteNumber("total_tokens", promptTokens + completionTokens);
        writer.WriteEndObject();
    }
}
