using DeepSeekOperator.Moe.Tokenization;

namespace DeepSeekOperator.Moe.Tests.Tokenization;

public class ByteTokenizerTests
{
    private readonly ByteTokenizer _tokenizer = new(vocabularySize: 512);

    [Theory]
    [InlineData("hello, world")]
    [InlineData("héllo ✓ 日本")]
    [InlineData("emoji 😀 and 𠀀, tabs\tand\r\nnewlines")]
    [InlineData("")]
    public void Decode_OfEncode_GivesTheTextBack(string text) =>
        Assert.Equal(text, _tokenizer.Decode(_tokenizer.Encode(text, addBos: false)));

    [Fact]
    public void Encode_IdsAreTheUtf8Bytes() =>
        Assert.Equal(['h', 0xC3, 0xA9, ' ', 0xE2, 0x9C, 0x93], _tokenizer.Encode("hé ✓", addBos: false));

    [Fact]
    public void Encode_AddBos_PrependsBos()
    {
        Assert.Equal([ByteTokenizer.DefaultBosTokenId, 'o', 'k'], _tokenizer.Encode("ok", addBos: true));
        Assert.Equal(256, _tokenizer.BosTokenId);
        Assert.Equal([257], _tokenizer.EosTokenIds);
        Assert.Equal(512, _tokenizer.VocabularySize);
    }

    [Fact]
    public void Decode_SpecialAndUnusedIds_DecodeToNothing() =>
        Assert.Equal("hi", _tokenizer.Decode([256, 'h', 300, 'i', 257, 511]));

    [Fact]
    public void Decode_InvalidUtf8_BecomesReplacementCharacter() =>
        Assert.Equal("\uFFFDA", _tokenizer.Decode([0xE6, 'A']));

    [Fact]
    public void DecodeIncrement_PartialCharacter_IsHeldBackUntilComplete()
    {
        // ✓ is E2 9C 93.
        Assert.Equal(string.Empty, _tokenizer.DecodeIncrement(['a'], 0xE2));
        Assert.Equal(string.Empty, _tokenizer.DecodeIncrement(['a', 0xE2], 0x9C));
        Assert.Equal("✓", _tokenizer.DecodeIncrement(['a', 0xE2, 0x9C], 0x93));
        Assert.Equal("b", _tokenizer.DecodeIncrement(['a', 0xE2, 0x9C, 0x93], 'b'));
    }

    [Fact]
    public void DecodeIncrement_SpecialTokensInsideACharacter_AreSkipped()
    {
        // The BOS between the bytes of é decodes to nothing, as in Decode.
        Assert.Equal(string.Empty, _tokenizer.DecodeIncrement([], 0xC3));
        Assert.Equal(string.Empty, _tokenizer.DecodeIncrement([0xC3], 256));
        Assert.Equal("é", _tokenizer.DecodeIncrement([0xC3, 256], 0xA9));
    }

    [Fact]
    public void DecodeIncrement_BrokenSequence_IsReplacedAsDecodeDoes()
    {
        // E6 starts a three-byte character, but 'A' cannot continue it.
        Assert.Equal(string.Empty, _tokenizer.DecodeIncrement([], 0xE6));
        Assert.Equal("\uFFFDA", _tokenizer.DecodeIncrement([0xE6], 'A'));
    }

    [Fact]
    public void DecodeIncrement_JoinedOverAGeneration_EqualsDecode()
    {
        var tokens = _tokenizer.Encode("héllo ✓ 日本 😀👍🏽", addBos: true).Append(257).ToArray();
        var joined = string.Concat(Enumerable.Range(0, tokens.Length).Select(i => _tokenizer.DecodeIncrement(tokens[..i], tokens[i])));
        Assert.Equal("héllo ✓ 日本 😀👍🏽", joined);
    }

    [Fact]
    public void Constructor_OtherSpecialIds_AreUsed()
    {
        var tokenizer = new ByteTokenizer(vocabularySize: 300, bosTokenId: 298, eosTokenId: 299);
        Assert.Equal([298, 'x'], tokenizer.Encode("x", addBos: true));
        Assert.Equal([299], tokenizer.EosTokenIds);
    }

    [Theory]
    [InlineData(257, 256, 257)]
    [InlineData(512, 255, 257)]
    [InlineData(512, 256, 512)]
    [InlineData(512, 300, 300)]
    public void Constructor_BadSizeOrIds_IsRejected(int vocabularySize, int bos, int eos) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ByteTokenizer(vocabularySize, bos, eos));

    [Theory]
    [InlineData(-1)]
    [InlineData(512)]
    public void Decode_IdOutsideVocabulary_IsRejectedWithTheId(int id)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _tokenizer.Decode([id]));
        Assert.Contains($"token id {id}", error.Message, StringComparison.Ordinal);
    }
}
