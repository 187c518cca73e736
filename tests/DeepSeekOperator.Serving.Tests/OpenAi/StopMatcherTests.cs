using DeepSeekOperator.Serving.OpenAi.Internal;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

public sealed class StopMatcherTests
{
    [Fact]
    public void TextThatMayStartAStopString_IsHeldBack_UntilItIsNot()
    {
        var stops = new StopMatcher(["<end>"]);

        Assert.Equal("ab", stops.Append("ab<e"));
        Assert.Equal("<ex", stops.Append("x"));
        Assert.Equal("", stops.Append("<en"));
        Assert.False(stops.Stopped);
        Assert.Equal("<en", stops.Flush());
    }

    [Fact]
    public void StopStringSplitAcrossPieces_EndsTheTextBeforeIt()
    {
        var stops = new StopMatcher(["<end>"]);

        Assert.Equal("one ", stops.Append("one <e"));
        Assert.Equal("", stops.Append("nd"));
        Assert.False(stops.Stopped);
        Assert.Equal("", stops.Append("> two"));
        Assert.True(stops.Stopped);
    }

    [Fact]
    public void SeveralStopStrings_TheEarliestOccurrenceWins()
    {
        var stops = new StopMatcher(["world", "lo w"]);

        Assert.Equal("hel", stops.Append("hello world"));
        Assert.True(stops.Stopped);
        Assert.Throws<InvalidOperationException>(() => stops.Append("more"));
    }

    [Fact]
    public void NoStopStrings_SendsEverythingAtOnce()
    {
        var stops = new StopMatcher([]);

        Assert.Equal("abc", stops.Append("abc"));
        Assert.Equal("", stops.Flush());
    }
}
