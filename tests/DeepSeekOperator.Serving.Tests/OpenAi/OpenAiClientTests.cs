using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

/// <summary>The official OpenAI .NET client against the API over the tiny synthetic model.</summary>
public sealed class OpenAiClientTests(TinyModelServerFixture fixture) : IClassFixture<TinyModelServerFixture>
{
    private readonly ChatCompletionOptions _greedy = new() { Temperature = 0, MaxOutputTokenCount = TinyModelServerFixture.MaxTokens };

    [Fact]
    public async Task CompleteChat_ReturnsWhatTheModelGreedilyGeneratesForTheTemplatedPrompt_WithUsage()
    {
        var prompt = TinyModelServerFixture.ChatPrompt("Hello");
        var expected = await fixture.GreedyAsync(prompt);
        Assert.NotEmpty(expected.Text);

        ChatCompletion completion = await Client().CompleteChatAsync([new UserChatMessage("Hello")], _greedy);

        Assert.Equal(expected.Text, Assert.Single(completion.Content).Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(expected.Reason == Moe.FinishReason.Stop ? ChatFinishReason.Stop : ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(prompt.Count, completion.Usage.InputTokenCount);
        Assert.Equal(expected.Tokens, completion.Usage.OutputTokenCount);
        Assert.Equal(prompt.Count + expected.Tokens, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal(OpenAiServer.ModelId, completion.Model);
    }

    [Fact]
    public async Task CompleteChatStreaming_UpdatesAssembleTheGreedyText_AndEndWithFinishReasonAndUsage()
    {
        // The system message's text goes right after BOS, before the first user turn.
        var prompt = TinyModelServerFixture.ChatPrompt("Tell me a story");
        prompt = [prompt[0], .. Encoding.UTF8.GetBytes("Be brief.").Select(b => (int)b), .. prompt.Skip(1)];
        var expected = await fixture.GreedyAsync(prompt);

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Client().CompleteChatStreamingAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Tell me a story")], _greedy))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal(expected.Text, text.ToString());
        Assert.Equal(expected.Reason == Moe.FinishReason.Stop ? ChatFinishReason.Stop : ChatFinishReason.Length, finish);
        Assert.NotNull(usage);
        Assert.Equal(prompt.Count, usage.InputTokenCount);
        Assert.Equal(expected.Tokens, usage.OutputTokenCount);
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_ThrowsClientResultExceptionWith404()
    {
        var client = new ChatClient("no-such-model", new ApiKeyCredential(TinyModelServerFixture.ApiKey), Options());

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("Hello")], _greedy));

        Assert.Equal(404, error.Status);
        Assert.Contains("no-such-model", error.Message, StringComparison.Ordinal);
    }

    private ChatClient Client() => new(OpenAiServer.ModelId, new ApiKeyCredential(TinyModelServerFixture.ApiKey), Options());

    private OpenAIClientOptions Options() => new() { Endpoint = new Uri(fixture.Server.BaseAddress, "v1") };
}
