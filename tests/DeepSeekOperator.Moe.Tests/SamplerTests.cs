namespace DeepSeekOperator.Moe.Tests;

public class SamplerTests
{
    private static readonly float[] Logits = [0.5f, 3.0f, 2.9f, -1f, 3.0f, 0f];

    [Fact]
    public void ZeroTemperature_PicksTheMostLikelyToken_LowerIdOnTies()
    {
        var sampler = new Sampler(new SamplingOptions());

        Assert.Equal(1, sampler.Next(Logits));
    }

    [Fact]
    public void TopK1_IsGreedyWhateverTheTemperature()
    {
        var sampler = new Sampler(new SamplingOptions { Temperature = 5, TopK = 1, Seed = 3 });

        Assert.All(Enumerable.Range(0, 50), _ => Assert.Equal(1, sampler.Next(Logits)));
    }

    [Fact]
    public void TopK_NeverPicksOutsideTheKMostLikely()
    {
        var sampler = new Sampler(new SamplingOptions { Temperature = 10, TopK = 3, Seed = 1 });

        var picked = Enumerable.Range(0, 500).Select(_ => sampler.Next(Logits)).ToHashSet();

        Assert.Equal([1, 2, 4], picked.Order());
    }

    [Fact]
    public void TopP_KeepsTheSmallestSetReachingP()
    {
        // Probabilities at temperature 1: ids 1 and 4 hold about 0.36 each, id 2 about 0.33 of what is left.
        var sampler = new Sampler(new SamplingOptions { Temperature = 1, TopP = 0.5, Seed = 2 });

        var picked = Enumerable.Range(0, 500).Select(_ => sampler.Next(Logits)).ToHashSet();

        Assert.Equal([1, 4], picked.Order());
    }

    [Fact]
    public void Temperature_SamplesInProportionToTheSoftmax()
    {
        float[] logits = [0f, (float)Math.Log(3)];
        var sampler = new Sampler(new SamplingOptions { Temperature = 1, Seed = 5 });

        var ones = Enumerable.Range(0, 20000).Count(_ => sampler.Next(logits) == 1);

        Assert.InRange(ones / 20000.0, 0.74, 0.76);
    }

    [Fact]
    public void SameSeed_SameTokens()
    {
        var options = new SamplingOptions { Temperature = 1.5, TopK = 4, TopP = 0.95, Seed = 42 };
        var a = new Sampler(options);
        var b = new Sampler(options);

        Assert.Equal(
            Enumerable.Range(0, 100).Select(_ => a.Next(Logits)),
            Enumerable.Range(0, 100).Select(_ => b.Next(Logits)));
    }

    [Theory]
    [InlineData(-0.1, 0, 1.0, 1, "temperature must be a number of at least 0")]
    [InlineData(1.0, -1, 1.0, 1, "top_k must not be negative")]
    [InlineData(1.0, 0, 0.0, 1, "top_p must be in (0, 1]")]
    [InlineData(1.0, 0, 1.5, 1, "top_p must be in (0, 1]")]
    [InlineData(1.0, 0, 1.0, 0, "max_tokens must be at least 1")]
    public void OutOfRangeOption_IsRejectedNamingIt(double temperature, int topK, double topP, int maxTokens, string message)
    {
        var options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, MaxTokens = maxTokens };

        var error = Assert.Throws<ArgumentException>(() => new Sampler(options));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
