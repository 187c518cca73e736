using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Tests;

public class BatchGeneratorTests
{
    private static MoeModel Tiny()
    {
        var config = SyntheticModel.Config(SyntheticPreset.Tiny);
        return MoeModel.FromWeights(config, SyntheticModel.Weights(config, seed: 7), ScalarType.Float32, CPU);
    }

    [Fact]
    public async Task Greedy_FollowsTheArgmaxOfRecomputedLogits()
    {
        using var model = Tiny();
        int[] prompt = [256, 72, 105];
        var generator = new BatchGenerator(model, []);

        var result = (await generator.GenerateAsync([new GenerationRequest(prompt, new SamplingOptions { MaxTokens = 6 })]))[0];

        Assert.Equal(6, result.Tokens.Count);
        Assert.Equal(FinishReason.Length, result.Reason);
        var sequence = prompt.ToList();
        foreach (var token in result.Tokens)
        {
            using var cache = model.CreateCache();
            using var logits = await model.ForwardAsync([new SequenceInput(cache, sequence)]);
            Assert.Equal(logits.argmax(-1).item<long>(), token);
            sequence.Add(token);
        }
    }

    [Fact]
    public async Task Batch_GivesEachSequenceWhatItGetsAlone()
    {
        using var model = Tiny();
        var generator = new BatchGenerator(model, []);
        var requests = new[]
        {
            new GenerationRequest([256, 1, 2, 3, 4, 5], new SamplingOptions { MaxTokens = 5 }),
            new GenerationRequest([256, 9], new SamplingOptions { MaxTokens = 3, Temperature = 1, Seed = 11 }),
            new GenerationRequest([256, 30, 31, 32], new SamplingOptions { MaxTokens = 7, Temperature = 0.7, TopP = 0.9, Seed = 12 }),
        };

        var together = await generator.GenerateAsync(requests);

        for (var i = 0; i < requests.Length; i++)
        {
            var alone = (await generator.GenerateAsync([requests[i]]))[0];
            Assert.Equal(alone.Tokens, together[i].Tokens);
            Assert.Equal(requests[i].Options.MaxTokens, together[i].Tokens.Count);
        }
    }

    [Fact]
    public async Task StopToken_EndsTheSequenceWithoutEmittingIt()
    {
        using var model = Tiny();
        int[] prompt = [256, 72, 105];
        var free = (await new BatchGenerator(model, []).GenerateAsync([new GenerationRequest(prompt, new SamplingOptions { MaxTokens = 6 })]))[0];
        var stop = free.Tokens[3];

        var stopped = (await new BatchGenerator(model, [stop]).GenerateAsync([new GenerationRequest(prompt, new SamplingOptions { MaxTokens = 6 })]))[0];

        Assert.Equal(FinishReason.Stop, stopped.Reason);
        Assert.Equal(free.Tokens.TakeWhile(t => t != stop), stopped.Tokens);
    }

    [Fact]
    public async Task StreamedTokens_AreTheResult()
    {
        using var model = Tiny();
        var streamed = new List<int>();

        var result = (await new BatchGenerator(model, []).GenerateAsync(
            [new GenerationRequest([256, 5], new SamplingOptions { MaxTokens = 4 })],
            (index, token) => streamed.Add(token)))[0];

        Assert.Equal(result.Tokens, streamed);
    }
}
