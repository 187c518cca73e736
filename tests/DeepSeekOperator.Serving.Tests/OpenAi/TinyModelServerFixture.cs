using System.Text;
using DeepSeekOperator.Moe;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

/// <summary>The API over the tiny synthetic model, and what that model greedily generates on its own, for comparison.</summary>
public sealed class TinyModelServerFixture : IAsyncLifetime
{
    public const string ApiKey = "sk-test-key";
    public const int MaxTokens = 24;

    private readonly MoeModel _model = MoeModel.FromWeights(OpenAiServer.Config, SyntheticModel.Weights(OpenAiServer.Config, seed: 5), ScalarType.Float32, CPU);
    private OpenAiServer? _server;

    internal OpenAiServer Server => _server!;

    /// <summary>The DeepSeek-V3 template of one user message, spelled out: BOS (by id), then the markers and text as bytes.</summary>
    public static IReadOnlyList<int> ChatPrompt(string user) =>
        [OpenAiServer.Tokenizer.BosTokenId!.Value, .. Encoding.UTF8.GetBytes($"<｜User｜>{user}<｜Assistant｜>").Select(b => (int)b)];

    public async Task InitializeAsync()
    {
        _server = await OpenAiServer.StartAsync(new SyntheticTokenGenerator(_model, [.. OpenAiServer.Tokenizer.EosTokenIds]), ApiKey);
    }

    /// <summary>The text and finish reason the model gives <paramref name="prompt"/> greedily, run directly.</summary>
    public async Task<(string Text, int Tokens, FinishReason Reason)> GreedyAsync(IReadOnlyList<int> prompt, int maxTokens = MaxTokens)
    {
        var generator = new BatchGenerator(_model, [.. OpenAiServer.Tokenizer.EosTokenIds]);
        var result = (await generator.GenerateAsync([new GenerationRequest(prompt, new SamplingOptions { Temperature = 0, MaxTokens = maxTokens })]))[0];
        return (OpenAiServer.Tokenizer.Decode(result.Tokens), result.Tokens.Count, result.Reason);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _model.Dispose();
    }
}
