namespace DeepSeekOperator.Moe.Tests;

public class SequenceGenerationTests
{
    private static float[] Peak(int token)
    {
        var logits = new float[8];
        logits[token] = 5;
        return logits;
    }

    [Fact]
    public void StopToken_EndsWithStopAndIsNotKept()
    {
        var sequence = new SequenceGeneration(new SamplingOptions { MaxTokens = 4 }, [3], contextLength: 100);

        Assert.Equal(2, sequence.Next(Peak(2), cachedLength: 5));
        Assert.Null(sequence.Next(Peak(3), cachedLength: 6));

        Assert.Equal([2], sequence.Result().Tokens);
        Assert.Equal(FinishReason.Stop, sequence.Finished);
    }

    [Fact]
    public void MaxTokens_EndsWithLengthAfterKeepingTheLastToken()
    {
        var sequence = new SequenceGeneration(new SamplingOptions { MaxTokens = 2 }, [], contextLength: 100);

        sequence.Next(Peak(1), cachedLength: 5);
        Assert.Null(sequence.Finished);
        Assert.Equal(4, sequence.Next(Peak(4), cachedLength: 6));

        Assert.Equal(FinishReason.Length, sequence.Finished);
        Assert.Equal([1, 4], sequence.Result().Tokens);
        Assert.Throws<InvalidOperationException>(() => sequence.Next(Peak(1), cachedLength: 7));
    }

    [Fact]
    public void FullContext_EndsWithLengthBeforeMaxTokens()
    {
        var sequence = new SequenceGeneration(new SamplingOptions { MaxTokens = 50 }, [], contextLength: 10);

        sequence.Next(Peak(1), cachedLength: 8);
        Assert.Null(sequence.Finished);
        sequence.Next(Peak(1), cachedLength: 9);

        Assert.Equal(FinishReason.Length, sequence.Finished);
    }

    [Fact]
    public void OptionsOutOfRange_AreRefusedNamingTheField()
    {
        var error = Assert.Throws<ArgumentException>(() => new SequenceGeneration(new SamplingOptions { TopP = 0 }, [], 10));

        Assert.StartsWith("top_p", error.Message, StringComparison.Ordinal);
    }
}
