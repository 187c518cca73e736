using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Moe.Tokenization;
using DeepSeekOperator.Serving.Placement;
using OpenAI;
using OpenAI.Chat;
using static TorchSharp.torch;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// <c>dsop router</c> and four <c>dsop shard</c> processes on loopback, used as a client would: the official
/// OpenAI client, curl-style streaming, and the single-process runtime as the reference for the text.
/// </summary>
public sealed class RouterProcessTests
{
    private static readonly ModelConfig Config = ShardProcesses.Config;

    [Fact]
    public async Task GreedyCompletion_FromRouterAndFourShards_IsTheSingleProcessText()
    {
        await using var shards = await ShardProcesses.StartAsync(PlacementGenerator.RoundRobin(Config, "synthetic-tiny", 1, shards: 4, slotsPerShard: 6));
        await using var router = await RouterProcess.StartAsync(shards);
        const string Prompt = "The experts of a mixture";
        const int MaxTokens = 24;

        using var response = await router.Http.PostAsJsonAsync(
            new Uri("v1/completions", UriKind.Relative),
            new JsonObject { ["model"] = "synthetic-tiny", ["prompt"] = Prompt, ["max_tokens"] = MaxTokens, ["temperature"] = 0 });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());

        var (expectedText, expectedTokens) = await LocalGreedyAsync(Prompt, MaxTokens);
        Assert.Equal(expectedText, (string?)body["choices"]![0]!["text"]);
        Assert.Equal(expectedTokens, (int)body["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task OpenAiClient_ChatsStreamsAndSeesErrors_ThroughRouterProcess()
    {
        await using var shards = await ShardProcesses.StartAsync(PlacementGenerator.Contiguous(Config, "synthetic-tiny", 1, shards: 4, slotsPerShard: 4));
        await using var router = await RouterProcess.StartAsync(shards);
        var client = new ChatClient("synthetic-tiny", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(router.BaseAddress, "v1") });
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 };
        List<ChatMessage> messages = [new UserChatMessage("Hello, experts")];

        ChatCompletion completion = await client.CompleteChatAsync(messages, options);
        Assert.InRange(completion.Usage.OutputTokenCount, 1, 12);
        Assert.True(completion.Usage.InputTokenCount > 0);

        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(completion.Content.Count == 0 ? "" : completion.Content[0].Text, streamed.ToString());
        Assert.Equal(completion.FinishReason, finish);

        var wrongModel = new ChatClient("no-such-model", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(router.BaseAddress, "v1") });
        var error = await Assert.ThrowsAsync<ClientResultException>(() => wrongModel.CompleteChatAsync(messages, options));
        Assert.Equal(404, error.Status);
    }

    /// <summary>Greedy generation of the tiny model in this process, and its text.</summary>
    private static async Task<(string Text, int Tokens)> LocalGreedyAsync(string prompt, int maxTokens)
    {
        using var model = MoeModel.FromWeights(Config, SyntheticModel.Weights(Config, ShardProcesses.Seed), ScalarType.Float32, CPU);
        var tokenizer = new ByteTokenizer(Config.VocabSize, Config.BosTokenId!.Value, Config.EosTokenIds[0]);
        var generator = new BatchGenerator(model, [.. tokenizer.EosTokenIds]);
        var results = await generator.GenerateAsync([new GenerationRequest(tokenizer.Encode(prompt, tokenizer.AddBosToken), new SamplingOptions { MaxTokens = maxTokens })]);
        return (tokenizer.Decode(results[0].Tokens), results[0].Tokens.Count);
    }
}
