using System.Text.Json.Nodes;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

/// <summary>Reads a server-sent event stream as OpenAI frames it: <c>data: …\n\n</c> events.</summary>
internal static class Sse
{
    /// <summary>The data of every event of <paramref name="body"/>, which must consist of such events only.</summary>
    public static List<string> Events(string body)
    {
        Assert.EndsWith("\n\n", body, StringComparison.Ordinal);
        var events = body[..^2].Split("\n\n");
        Assert.All(events, e => Assert.StartsWith("data: ", e, StringComparison.Ordinal));
        Assert.All(events, e => Assert.DoesNotContain('\n', e));
        return [.. events.Select(e => e["data: ".Length..])];
    }

    /// <summary>The JSON events before the final <c>[DONE]</c>, which must be there.</summary>
    public static List<JsonObject> Chunks(string body)
    {
        var events = Events(body);
        Assert.Equal("[DONE]", events[^1]);
        return [.. events[..^1].Select(e => JsonNode.Parse(e)!.AsObject())];
    }

    /// <summary>The content of every chat chunk, joined.</summary>
    public static string ChatText(IEnumerable<JsonObject> chunks) =>
        string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(choice => (string?)choice!["delta"]!["content"]));
}
