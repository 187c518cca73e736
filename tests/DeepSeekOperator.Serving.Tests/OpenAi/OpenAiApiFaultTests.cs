using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

/// <summary>How the API answers a generator that refuses, fails, stops or is left by its client: scripted generators.</summary>
public sealed class OpenAiApiFaultTests
{
    private const string Chat = """{"model":"deepseek-tiny","messages":[{"role":"user","content":"hi"}]""";

    [Fact]
    public async Task QueueFull_Answers429RateLimitExceeded()
    {
        await using var server = await OpenAiServer.StartAsync(new ScriptedGenerator { Refusal = new QueueFullException(8) });
        using var client = server.Client();

        using var response = await PostAsync(client, "/v1/chat/completions", Chat + "}");

        var error = await OpenAiApiTests.ErrorAsync(response, HttpStatusCode.TooManyRequests);
        Assert.Equal("rate_limit_exceeded", (string)error["type"]!);
        Assert.Contains("queue of 8 requests is full", (string)error["message"]!, StringComparison.Ordinal);
        Assert.Equal(1, server.Answered(429));
    }

    [Fact]
    public async Task ShardUnavailable_BeforeTheAnswer_Answers503NamingTheShard()
    {
        var generator = new ScriptedGenerator { Tokens = ScriptedGenerator.TokensOf("ab"), Failure = new ShardUnavailableException(3, "shard 3 has no reachable replica") };
        await using var server = await OpenAiServer.StartAsync(generator);
        using var client = server.Client();

        using var response = await PostAsync(client, "/v1/completions", """{"model":"deepseek-tiny","prompt":"x"}""");

        var error = await OpenAiApiTests.ErrorAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("shard 3 has no reachable replica", (string)error["message"]!);
        Assert.Equal(1, server.Answered(503));
        Assert.Empty(server.Errors);
    }

    [Fact]
    public async Task ShardUnavailable_MidStream_EndsTheStreamWithAnErrorEvent_WithoutDone()
    {
        var generator = new ScriptedGenerator { Tokens = ScriptedGenerator.TokensOf("ab"), Failure = new ShardUnavailableException(2, "shard 2 has no reachable replica") };
        await using var server = await OpenAiServer.StartAsync(generator);
        using var client = server.Client();

        using var response = await PostAsync(client, "/v1/chat/completions", Chat + ""","stream":true}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = Sse.Events(await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain("[DONE]", events);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!.AsObject()).ToList();
        Assert.Equal("ab", Sse.ChatText(chunks));
        var error = JsonNode.Parse(events[^1])!["error"]!;
        Assert.Equal("shard 2 has no reachable replica", (string)error["message"]!);
        Assert.Equal("server_error", (string)error["type"]!);
    }

    [Fact]
    public async Task StopString_CutsTheTextBeforeIt_FinishesWithStop_AndCancelsTheGeneration()
    {
        var generator = new ScriptedGenerator { Tokens = ScriptedGenerator.TokensOf("hello world, again"), HoldOpen = true };
        await using var server = await OpenAiServer.StartAsync(generator);
        using var client = server.Client();

        using var response = await PostAsync(client, "/v1/completions", """{"model":"deepseek-tiny","prompt":"x","stop":["again","o w"],"max_tokens":50}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choice = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["choices"]![0]!;
        Assert.Equal("hell", (string)choice["text"]!);
        Assert.Equal("stop", (string)choice["finish_reason"]!);
        await generator.Cancelled.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task StopString_Streamed_NeverSendsTheStartOfTheStopString()
    {
        var generator = new ScriptedGenerator { Tokens = ScriptedGenerator.TokensOf("one END two"), HoldOpen = true };
        await using var server = await OpenAiServer.StartAsync(generator);
        using var client = server.Client();

        using var response = await PostAsync(client, "/v1/chat/completions", Chat + ""","stream":true,"stop":" END"}""");

        var chunks = Sse.Chunks(await response.Content.ReadAsStringAsync());
        Assert.Equal("one", Sse.ChatText(chunks));
        Assert.Equal("stop", (string)chunks[^1]["choices"]![0]!["finish_reason"]!);
        await generator.Cancelled.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SamplingFields_ReachTheGenerator_AndChatDefaultsMaxTokensToTheRestOfTheContext()
    {
        var generator = new ScriptedGenerator { Tokens = ScriptedGenerator.TokensOf("ok") };
        await using var server = await OpenAiServer.StartAsync(generator);
        using var client = server.Client();

        using var response = await PostAsync(client, "/v1/chat/completions", Chat + ""","temperature":0.7,"top_p":0.9,"seed":42}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Assert.Single(generator.Requests);
        Assert.Equal(TinyModelServerFixture.ChatPrompt("hi"), request.Prompt);
        Assert.Equal(new SamplingOptions { Temperature = 0.7, TopP = 0.9, Seed = 42, MaxTokens = OpenAiServer.Config.MaxPositionEmbeddings - request.Prompt.Count }, request.Options);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("ok", (string)body["choices"]![0]!["message"]!["content"]!);
        Assert.Equal("stop", (string)body["choices"]![0]!["finish_reason"]!);
    }

    [Fact]
    public async Task Text_IsSentAsUtf8_NotAsEscapes()
    {
        await using var server = await OpenAiServer.StartAsync(new ScriptedGenerator { Tokens = ScriptedGenerator.TokensOf("日本 \"ok\"") });
        using var client = server.Client();

        using var response = await PostAsync(client, "/v1/chat/completions", Chat + "}");

        Assert.Contains("\"content\":\"日本 \\\"ok\\\"\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Created_ComesFromTheTimeProvider()
    {
        var time = new Discovery.ManualTime();
        await using var server = await OpenAiServer.StartAsync(new ScriptedGenerator { Tokens = ScriptedGenerator.TokensOf("ok") }, time: time);
        using var client = server.Client();

        using var response = await PostAsync(client, "/v1/chat/completions", Chat + "}");

        Assert.Equal(time.GetUtcNow().ToUnixTimeSeconds(), (long)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["created"]!);
    }

    [Fact]
    public async Task ClientDisconnect_MidStream_CancelsTheGeneration()
    {
        var generator = new ScriptedGenerator { Tokens = ScriptedGenerator.TokensOf("a"), HoldOpen = true };
        await using var server = await OpenAiServer.StartAsync(generator);
        var client = server.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Chat + ""","stream":true}""", Encoding.UTF8, "application/json") };

        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            // The headers and the first chunks come before the generation ends.
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await reader.ReadLineAsync(), StringComparison.Ordinal);
            client.Dispose();
        }

        await generator.Cancelled.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Single(generator.Requests);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
}
