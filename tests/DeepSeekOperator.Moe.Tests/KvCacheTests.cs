using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Tests;

public class KvCacheTests
{
    private static MoeModel Tiny(ScalarType dtype = ScalarType.Float32)
    {
        var config = SyntheticModel.Config(SyntheticPreset.Tiny);
        return MoeModel.FromWeights(config, SyntheticModel.Weights(config, seed: 7), dtype, CPU);
    }

    [Fact]
    public async Task IncrementalDecode_GivesTheLogitsOfRecomputingTheWholeSequence()
    {
        using var model = Tiny();
        int[] tokens = [256, 104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100];

        using var full = model.CreateCache();
        using var all = await model.ForwardAsync([new SequenceInput(full, tokens)], LogitsFor.AllTokens);

        using var incremental = model.CreateCache(initialCapacity: 2);
        using (var prefill = await model.ForwardAsync([new SequenceInput(incremental, tokens[..5])], LogitsFor.AllTokens))
        {
            AssertClose(all.narrow(0, 0, 5), prefill);
        }

        for (var i = 5; i < tokens.Length; i++)
        {
            using var step = await model.ForwardAsync([new SequenceInput(incremental, [tokens[i]])]);
            AssertClose(all.narrow(0, i, 1), step);
        }

        Assert.Equal(tokens.Length, incremental.Length);
    }

    [Fact]
    public async Task SequencesAtDifferentPositions_InOneBatch_MatchEachRunAlone()
    {
        using var model = Tiny();
        int[] first = [256, 1, 2, 3, 4, 5, 6];
        int[] second = [256, 40, 41];

        using var aloneFirst = model.CreateCache();
        using var aloneSecond = model.CreateCache();
        using var expectedFirst = await model.ForwardAsync([new SequenceInput(aloneFirst, first)]);
        using var expectedSecond = await model.ForwardAsync([new SequenceInput(aloneSecond, second)]);

        using var a = model.CreateCache();
        using var b = model.CreateCache();
        using (await model.ForwardAsync([new SequenceInput(a, first[..4])]))
        {
        }

        using var both = await model.ForwardAsync([new SequenceInput(a, first[4..]), new SequenceInput(b, second)]);
        AssertClose(expectedFirst, both.narrow(0, 0, 1));
        AssertClose(expectedSecond, both.narrow(0, 1, 1));
    }

    [Fact]
    public async Task CacheOfAnotherModel_IsRefused_EvenWithTheSameConfig()
    {
        using var first = Tiny();
        using var second = Tiny();
        using var cache = first.CreateCache();

        var error = await Assert.ThrowsAsync<ArgumentException>(async () => await second.ForwardAsync([new SequenceInput(cache, [1, 2])]));

        Assert.StartsWith("sequence 0: the cache was created by another model", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, cache.Length);
    }

    [Fact]
    public async Task FailedPass_LeavesTheCacheWhereItWas()
    {
        using var model = Tiny();
        using var cache = model.CreateCache();
        using (await model.ForwardAsync([new SequenceInput(cache, [256, 1, 2])]))
        {
        }

        await Assert.ThrowsAsync<ArgumentException>(async () => await model.ForwardAsync([new SequenceInput(cache, [3, 4, 9999])]));

        Assert.Equal(3, cache.Length);
    }

    [Fact]
    public async Task SequenceBeyondTheContext_IsRefusedNamingTheLimit()
    {
        using var model = Tiny();
        using var cache = model.CreateCache();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await model.ForwardAsync([new SequenceInput(cache, new int[model.Config.MaxPositionEmbeddings + 1])]));

        Assert.Contains("beyond max_position_embeddings (2048)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WeightOfTheWrongShape_IsRefusedNamingIt_AndWhatWasTakenIsFreed()
    {
        var config = SyntheticModel.Config(SyntheticPreset.Tiny);
        var weights = SyntheticModel.Weights(config, seed: 7);
        var embedding = weights["model.embed_tokens.weight"];
        weights["model.layers.2.self_attn.o_proj.weight"] = zeros(64, 63);
        using var experts = new LocalExpertExecutor(config, new Dictionary<int, IReadOnlyDictionary<int, ExpertWeights>>());

        var error = Assert.Throws<ArgumentException>(() => new MoeModel(config, weights, experts, ScalarType.Float32, CPU));

        Assert.StartsWith("weight 'model.layers.2.self_attn.o_proj.weight' has shape [64, 63], but config.json implies [64, 64]", error.Message, StringComparison.Ordinal);
        Assert.True(embedding.IsInvalid);
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = expected.contiguous().data<float>().ToArray();
        var a = actual.contiguous().data<float>().ToArray();
        var scale = e.Max(v => Math.Abs(v));
        var worst = e.Zip(a, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(worst <= 1e-5 * scale, $"max difference {worst} against max magnitude {scale}");
    }
}
