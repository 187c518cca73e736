using DeepSeekOperator.Moe.Tokenization;

namespace DeepSeekOperator.Moe.Tests.Tokenization;

public class CodePointRegexTests
{
    [Fact]
    public void Matches_SymbolClassOnEmoji_MatchesTheWholeCharacter()
    {
        var regex = new CodePointRegex(@"[\p{P}\p{S}]+", "test");
        Assert.Equal([(1, 4)], regex.Matches("a😀!b"));
    }

    [Fact]
    public void Matches_NegatedClassNextToEmoji_NeverTakesHalfOfIt()
    {
        // In UTF-16 the low half of 😀 is "not a letter", so [^\p{L}]?\p{L}+ would match "\uDE00b".
        var regex = new CodePointRegex(@"[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+", "test");
        Assert.Equal([(0, 1), (3, 4)], regex.Matches("a😀b"));
    }

    [Fact]
    public void Matches_ClassListingRangesBeyondTheBmp_MatchesThoseCharactersOnly()
    {
        // DeepSeek-V2's letter class lists Deseret (U+10400..U+1044F); Mathematical Bold 𝐀 (U+1D400) is a letter outside it.
        var regex = new CodePointRegex("\\s?[A-Za-z\U00010400-\U0001044F]+", "test");
        const string text = "x 𐐀𐐨y 𝐀";
        Assert.Equal([(0, 1), (1, 7)], regex.Matches(text));
        Assert.Equal(" 𐐀𐐨y", text[1..7]);
    }

    [Fact]
    public void Matches_EmptyMatchRightAfterAMatch_IsSkippedAsOnigurumaDoes() =>
        Assert.Equal([(0, 0), (1, 2), (3, 3)], new CodePointRegex("x*", "test").Matches("axb"));

    [Fact]
    public void Matches_DollarBeforeNewline_IsALineEnd() =>
        Assert.Equal([(1, 2), (4, 5)], new CodePointRegex(@"\s+$", "test").Matches("a \nb "));

    [Fact]
    public void Constructor_AstralLiteralOutsideAClass_IsRefused()
    {
        var error = Assert.Throws<NotSupportedException>(() => new CodePointRegex("😀+", "file.json: pattern"));
        Assert.StartsWith("file.json: pattern: it has U+1F600", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ClassOfOnlyAstralCharacters_IsRefused() =>
        Assert.Throws<NotSupportedException>(() => new CodePointRegex("[\U0001F600-\U0001F64F]", "test"));
}
