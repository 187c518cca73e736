using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>What a streamed completion delivered.</summary>
/// <param name="Status">The HTTP status of the answer.</param>
/// <param name="Text">The content of every chunk, joined.</param>
/// <param name="FinishReason">The finish reason of the last chunk, when one came.</param>
/// <param name="Error">The error event or error body, when there was one.</param>
/// <param name="Done">Whether the stream ended with <c>data: [DONE]</c>.</param>
/// <param name="Chunks">How many content chunks came.</param>
/// <param name="FirstToken">Time from sending the request to the first content chunk.</param>
internal sealed record StreamResult(HttpStatusCode Status, string Text, string? FinishReason, string? Error, bool Done, int Chunks, TimeSpan? FirstToken)
{
    public bool Succeeded => Status == HttpStatusCode.OK && Error is null && Done && FinishReason is not null;
}

/// <summary>Streams a chat or text completion over server-sent events, as a browser or curl would read it.</summary>
internal static class Sse
{
    public static async Task<StreamResult> StreamAsync(HttpClient http, string path, JsonObject body, Func<int, Task>? onChunk = null, CancellationToken cancellationToken = default)
    {
        body["stream"] = true;
        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body) };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new StreamResult(response.StatusCode, "", null, await response.Content.ReadAsStringAsync(cancellationToken), false, 0, null);
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        var text = new StringBuilder();
        string? finish = null, error = null;
        var done = false;
        var chunks = 0;
        TimeSpan? first = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                done = true;
                break;
            }

            var json = JsonNode.Parse(data)!.AsObject();
            if (json["error"] is { } failure)
            {
                error = failure.ToJsonString();
                break;
            }

            if (json["choices"] is not JsonArray { Count: > 0 } choices)
            {
                continue;
            }

            var choice = choices[0]!;
            var piece = (string?)choice["delta"]?["content"] ?? (string?)choice["text"];
            if (!string.IsNullOrEmpty(piece))
            {
                first ??= Stopwatch.GetElapsedTime(started);
                text.Append(piece);
                chunks++;
                if (onChunk is not null)
                {
                    await onChunk(chunks);
                }
            }

            finish = (string?)choice["finish_reason"] ?? finish;
        }

        return new StreamResult(response.StatusCode, text.ToString(), finish, error, done, chunks, first);
    }

    /// <summary>A chat request body for the tiny model.</summary>
    public static JsonObject Chat(string content, int maxTokens) => new()
    {
        ["model"] = "synthetic-tiny",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
        ["max_tokens"] = maxTokens,
        ["temperature"] = 0,
    };
}
