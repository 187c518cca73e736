using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

/// <summary>The API's wire format, checked with a raw HTTP client against the tiny synthetic model.</summary>
public sealed class OpenAiApiTests(TinyModelServerFixture fixture) : IClassFixture<TinyModelServerFixture>, IDisposable
{
    private readonly HttpClient _client = fixture.Server.Client(TinyModelServerFixture.ApiKey);

    public void Dispose()
    {
        _client.Dispose();
        Assert.Empty(fixture.Server.Errors);
    }

    [Fact]
    public async Task ChatStream_SendsRoleThenContentThenFinishThenUsage_AsDataEvents_EndingWithDone()
    {
        var prompt = TinyModelServerFixture.ChatPrompt("Hi");
        var expected = await fixture.GreedyAsync(prompt);

        using var response = await PostAsync("/v1/chat/completions", $$$"""
            {"model":"{{{OpenAiServer.ModelId}}}","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],
             "temperature":0,"max_tokens":{{{TinyModelServerFixture.MaxTokens}}},"stream":true,"stream_options":{"include_usage":true}}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var chunks = Sse.Chunks(await response.Content.ReadAsStringAsync());
        var id = (string)chunks[0]["id"]!;
        Assert.StartsWith("chatcmpl-", id, StringComparison.Ordinal);
        Assert.All(chunks, c => Assert.Equal(id, (string)c["id"]!));
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string)c["object"]!));
        Assert.Equal("assistant", (string)chunks[0]["choices"]![0]!["delta"]!["role"]!);
        Assert.All(chunks[1..], c => Assert.Null(c["choices"]!.AsArray().FirstOrDefault()?["delta"]?["role"]));
        Assert.Equal(expected.Text, Sse.ChatText(chunks));
        var finish = chunks[^2]["choices"]![0]!;
        Assert.Equal(expected.Reason == Moe.FinishReason.Stop ? "stop" : "length", (string)finish["finish_reason"]!);
        Assert.Empty(finish["delta"]!.AsObject());
        Assert.All(chunks[..^2], c => Assert.Null((string?)c["choices"]![0]!["finish_reason"]));
        Assert.All(chunks[..^1], c => Assert.True(c.ContainsKey("usage") && c["usage"] is null));
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(prompt.Count, (int)chunks[^1]["usage"]!["prompt_tokens"]!);
        Assert.Equal(expected.Tokens, (int)chunks[^1]["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task Completion_StringPrompt_ReturnsTheGreedyTextOfBosAndThePromptBytes()
    {
        IReadOnlyList<int> prompt = [OpenAiServer.Tokenizer.BosTokenId!.Value, .. Encoding.UTF8.GetBytes("Once upon").Select(b => (int)b)];
        var expected = await fixture.GreedyAsync(prompt, maxTokens: 12);

        using var response = await PostAsync("/v1/completions", $$"""{"model":"{{OpenAiServer.ModelId}}","prompt":["Once upon"],"temperature":0,"max_tokens":12,"seed":3}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.StartsWith("cmpl-", (string)body["id"]!, StringComparison.Ordinal);
        Assert.Equal("text_completion", (string)body["object"]!);
        Assert.Equal(expected.Text, (string)body["choices"]![0]!["text"]!);
        Assert.Equal(prompt.Count, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(expected.Tokens, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal(prompt.Count + expected.Tokens, (int)body["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task CompletionStream_SendsTextCompletionChunks_EndingWithFinishReasonAndDone()
    {
        IReadOnlyList<int> prompt = [OpenAiServer.Tokenizer.BosTokenId!.Value, .. Encoding.UTF8.GetBytes("abc").Select(b => (int)b)];
        var expected = await fixture.GreedyAsync(prompt, maxTokens: 8);

        using var response = await PostAsync("/v1/completions", $$"""{"model":"{{OpenAiServer.ModelId}}","prompt":"abc","temperature":0,"max_tokens":8,"stream":true}""");

        var chunks = Sse.Chunks(await response.Content.ReadAsStringAsync());
        Assert.All(chunks, c => Assert.Equal("text_completion", (string)c["object"]!));
        Assert.All(chunks, c => Assert.False(c.ContainsKey("usage")));
        Assert.Equal(expected.Text, string.Concat(chunks.Select(c => (string)c["choices"]![0]!["text"]!)));
        Assert.Equal(expected.Reason == Moe.FinishReason.Stop ? "stop" : "length", (string)chunks[^1]["choices"]![0]!["finish_reason"]!);
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"temperature":2.5}""", "temperature")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"temperature":"hot"}""", "temperature")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"top_p":0}""", "top_p")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"n":2}""", "n")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"max_completion_tokens":100000}""", "max_completion_tokens")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"seed":1.5}""", "seed")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}""", "stop")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"stop":["a",1]}""", "stop[1]")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"stream":"yes"}""", "stream")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}""", "stream_options")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"presence_penalty":1}""", "presence_penalty")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"}],"logprobs":true}""", "logprobs")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[]}""", "messages")]
    [InlineData("/v1/chat/completions", """{"model":"M"}""", "messages")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"tool","content":"x"}]}""", "messages[0].role")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":"x"},{"role":"user"}]}""", "messages[1].content")]
    [InlineData("/v1/chat/completions", """{"model":"M","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0].type")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", "model")]
    [InlineData("/v1/completions", """{"model":"M","prompt":"x","echo":true}""", "echo")]
    [InlineData("/v1/completions", """{"model":"M","prompt":["x","y"]}""", "prompt")]
    [InlineData("/v1/completions", """{"model":"M","prompt":[1,2,3]}""", "prompt")]
    [InlineData("/v1/completions", """{"model":"M"}""", "prompt")]
    [InlineData("/v1/completions", """{"model":"M","prompt":"x","max_tokens":-1}""", "max_tokens")]
    public async Task BadField_Answers400InOpenAisShape_NamingTheField(string path, string body, string param)
    {
        using var response = await PostAsync(path, body.Replace("\"M\"", $"\"{OpenAiServer.ModelId}\"", StringComparison.Ordinal));

        var error = await ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Contains(param.Split('[')[0], (string)error["message"]!, StringComparison.Ordinal);
        Assert.True(error.AsObject().ContainsKey("code"));
    }

    [Theory]
    [InlineData("{\"model\":")]
    [InlineData("[1,2]")]
    [InlineData("{\"model\":\"a\",\"model\":\"b\"}")]
    public async Task MalformedBody_Answers400(string body)
    {
        using var response = await PostAsync("/v1/chat/completions", body);

        var error = await ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.Null((string?)error["param"]);
    }

    [Fact]
    public async Task UnknownModel_Answers404ModelNotFound()
    {
        using var response = await PostAsync("/v1/completions", """{"model":"gpt-4","prompt":"x"}""");

        var error = await ErrorAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", (string)error["code"]!);
        Assert.Equal("model", (string)error["param"]!);
        Assert.Contains("gpt-4", (string)error["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_ListsTheServedModel_AndGetsItById_And404sOthers()
    {
        var list = JsonNode.Parse(await _client.GetStringAsync("/v1/models"))!;
        var model = JsonNode.Parse(await _client.GetStringAsync($"/v1/models/{OpenAiServer.ModelId}"))!;
        using var other = await _client.GetAsync("/v1/models/deepseek-ai/DeepSeek-V3");

        Assert.Equal("list", (string)list["object"]!);
        Assert.Equal(OpenAiServer.ModelId, (string)Assert.Single(list["data"]!.AsArray())!["id"]!);
        Assert.Equal(OpenAiServer.ModelId, (string)model["id"]!);
        Assert.Equal("model", (string)model["object"]!);
        Assert.Equal("model_not_found", (string)(await ErrorAsync(other, HttpStatusCode.NotFound))["code"]!);
    }

    [Fact]
    public async Task UnknownRoute_Answers404InOpenAisShape()
    {
        using var response = await PostAsync("/v1/embeddings", """{"model":"x","input":"y"}""");

        var error = await ErrorAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("Invalid URL (POST /v1/embeddings)", (string)error["message"]!);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sk-wrong")]
    [InlineData("sk-test-ke")]
    public async Task MissingOrWrongApiKey_Answers401(string? key)
    {
        using var client = fixture.Server.Client(key);
        var before = fixture.Server.Answered(401);

        using var response = await client.GetAsync("/v1/models");

        Assert.Equal("invalid_api_key", (string)(await ErrorAsync(response, HttpStatusCode.Unauthorized))["code"]!);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(before + 1, fixture.Server.Answered(401));
    }

    [Fact]
    public async Task EveryAnswer_IsCounted_AndGeneratedTokensAreTimed()
    {
        var ok = fixture.Server.Answered(200);
        var bad = fixture.Server.Answered(400);
        var firstTokens = fixture.Server.Metrics.TimeToFirstToken.Count;
        var gaps = fixture.Server.Metrics.InterTokenLatency.Count;

        using (await PostAsync("/v1/completions", $$"""{"model":"{{OpenAiServer.ModelId}}","prompt":"x","max_tokens":5,"temperature":0,"stream":true}"""))
        {
        }

        using (await PostAsync("/v1/completions", $$"""{"model":"{{OpenAiServer.ModelId}}","prompt":"x","top_p":2}"""))
        {
        }

        Assert.Equal(ok + 1, fixture.Server.Answered(200));
        Assert.Equal(bad + 1, fixture.Server.Answered(400));
        Assert.Equal(firstTokens + 1, fixture.Server.Metrics.TimeToFirstToken.Count);
        Assert.InRange(fixture.Server.Metrics.InterTokenLatency.Count - gaps, 1, 4);
    }

    internal static async Task<JsonNode> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(["error"], body.Select(p => p.Key));
        var error = body["error"]!;
        Assert.Equal(["message", "type", "param", "code"], error.AsObject().Select(p => p.Key));
        return error;
    }

    private Task<HttpResponseMessage> PostAsync(string path, string json) =>
        _client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
}
