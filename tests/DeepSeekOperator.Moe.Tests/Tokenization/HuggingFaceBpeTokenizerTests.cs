using System.Text.Json.Nodes;
using DeepSeekOperator.Moe.Tokenization;
using static DeepSeekOperator.Moe.Tests.Tokenization.TestTokenizerJson;

namespace DeepSeekOperator.Moe.Tests.Tokenization;

public sealed class HuggingFaceBpeTokenizerTests : IDisposable
{
    private readonly TestModelDirectory _model = new();
    private readonly ITextTokenizer _tokenizer;

    public HuggingFaceBpeTokenizerTests()
    {
        _model.Write("tokenizer.json", Create());
        _model.Write("tokenizer_config.json", CreateConfig());
        _tokenizer = TextTokenizers.Load(_model.Path, VocabularySize);
    }

    public void Dispose() => _model.Dispose();

    [Fact]
    public void Encode_Words_AppliesMergesByRankWithinEachPiece()
    {
        // "hello" -> h e l l o -> he l l o -> he ll o -> hell o -> hello; " world" -> Ġw o r l d -> Ġw or l d -> Ġwor l d.
        Assert.Equal([Hello, SpaceWor, 'l', 'd'], _tokenizer.Encode("hello world", addBos: false));
    }

    [Fact]
    public void Encode_Digits_SplitsIntoRunsOfThreeBeforeMerging()
    {
        // \p{N}{1,3} cuts "12345" into "123" and "45", so the merge "3 4" cannot join across them.
        Assert.Equal([Twelve, '3', '4', '5'], _tokenizer.Encode("12345", addBos: false));
        Assert.Equal([ThirtyFour], _tokenizer.Encode("34", addBos: false));
    }

    [Fact]
    public void Encode_MultiByteCharacters_MergeTheirByteSymbols()
    {
        // 日 = E6 97 A5 = "æĹ¥" (one token); 本 = E6 9C AC has no merges, so it stays three bytes.
        Assert.Equal([Ri, 0xE6, 0x9C, 0xAC], _tokenizer.Encode("日本", addBos: false));
    }

    [Fact]
    public void Encode_EmojiFollowedByPunctuation_IsOnePieceAsInHuggingFace()
    {
        // 😀 (F0 9F 98 80) is a symbol, so " ?[\p{P}\p{S}]+" takes "😀!" as one piece and the merge 0x80 + "!" applies.
        // Matched as UTF-16 code units, the emoji's two halves would not be symbols and the piece would break.
        Assert.Equal(['a', 0xF0, 0x9F, 0x98, EmojiTailBang, 'b'], _tokenizer.Encode("a😀!b", addBos: false));
    }

    [Fact]
    public void Encode_AddBos_PrependsBosFromTokenizerConfig()
    {
        Assert.Equal([Bos, 'h', 'i'], _tokenizer.Encode("hi", addBos: true));
        Assert.Equal(['h', 'i'], _tokenizer.Encode("hi", addBos: false));
        Assert.Equal(Bos, _tokenizer.BosTokenId);
        Assert.Equal([Eos], _tokenizer.EosTokenIds);
        Assert.True(_tokenizer.AddBosToken);
        Assert.Equal(VocabularySize, _tokenizer.VocabularySize);
    }

    [Fact]
    public void Encode_SpecialTokenText_BecomesItsSingleToken()
    {
        Assert.Equal([User, Hello], _tokenizer.Encode("<｜User｜>hello", addBos: false));
        Assert.Equal([Hello, Eos], _tokenizer.Encode("hello<｜end▁of▁sentence｜>", addBos: false));
        Assert.Equal([Bos, Bos], _tokenizer.Encode("<｜begin▁of▁sentence｜>", addBos: true));
    }

    [Fact]
    public void Encode_AddedTokensNotNormalized_AreFoundBeforeNormalizedOnes()
    {
        // As in Hugging Face: "<th" (normalized: false) is cut out of the text first, so "<think>" (normalized: true) never matches.
        var json = Create();
        json["added_tokens"]!.AsArray().Add(new JsonObject { ["id"] = 271, ["content"] = "<think>", ["normalized"] = true, ["special"] = false });
        json["added_tokens"]!.AsArray().Add(new JsonObject { ["id"] = 272, ["content"] = "<th", ["normalized"] = false, ["special"] = false });
        using var model = new TestModelDirectory();
        model.Write("tokenizer.json", json);
        var tokenizer = TextTokenizers.Load(model.Path, VocabularySize);
        Assert.Equal([272, 'i', 'n', 'k', '>'], tokenizer.Encode("<think>", addBos: false));
        Assert.Equal("<think>", tokenizer.Decode([271]));
        Assert.Equal("<think>", tokenizer.Decode(tokenizer.Encode("<think>", addBos: false)));
    }

    [Fact]
    public void Encode_EmptyText_IsEmpty() => Assert.Empty(_tokenizer.Encode(string.Empty, addBos: false));

    [Theory]
    [InlineData("hello world")]
    [InlineData("héllo ✓ 日本")]
    [InlineData("  leading and  multiple   spaces\r\n\n\ttabs")]
    [InlineData("emoji 😀👍🏽 and 𠀀 (outside the BMP), digits 1234567, “quotes”")]
    [InlineData("<｜User｜>question<｜Assistant｜>")]
    public void Decode_OfEncode_GivesTheTextBack(string text) =>
        Assert.Equal(text, _tokenizer.Decode(_tokenizer.Encode(text, addBos: false)));

    [Fact]
    public void Decode_SkipsSpecialTokensButKeepsOtherAddedTokens() =>
        Assert.Equal("<｜User｜>hello", _tokenizer.Decode([Bos, User, Hello, Eos]));

    [Fact]
    public void Decode_IdsNoTokenUses_DecodeToNothing() =>
        Assert.Equal("hello", _tokenizer.Decode([Hello, 280, VocabularySize - 1]));

    [Fact]
    public void Decode_IdOutsideVocabulary_IsRejectedWithTheId()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _tokenizer.Decode([VocabularySize]));
        Assert.Contains($"token id {VocabularySize}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DecodeIncrement_CharacterSplitAcrossTokens_IsEmittedWithItsLastByte()
    {
        int[] tokens = [Ri, 0xE6, 0x9C, 0xAC];
        var pieces = Enumerable.Range(0, tokens.Length).Select(i => _tokenizer.DecodeIncrement(tokens[..i], tokens[i])).ToArray();
        Assert.Equal(["日", string.Empty, string.Empty, "本"], pieces);
    }

    [Fact]
    public void DecodeIncrement_JoinedOverAGeneration_EqualsDecode()
    {
        var tokens = _tokenizer.Encode("<｜User｜>héllo ✓ 日本 a😀!b 12345", addBos: true).ToArray();
        var joined = string.Concat(Enumerable.Range(0, tokens.Length).Select(i => _tokenizer.DecodeIncrement(tokens[..i], tokens[i])));
        Assert.Equal(_tokenizer.Decode(tokens), joined);
        Assert.Equal("<｜User｜>héllo ✓ 日本 a😀!b 12345", joined);
    }

    [Fact]
    public void Encode_FromManyThreadsAtOnce_GivesTheSameIds()
    {
        string[] texts = ["hello world 12345", "a😀!b 𠀀 👍🏽", "<｜User｜>日本 hello", "  spaces\r\n\tand tabs"];
        var expected = texts.Select(t => _tokenizer.Encode(t, addBos: false).ToArray()).ToArray();
        var fresh = TextTokenizers.Load(_model.Path, VocabularySize);
        var results = new int[400][];
        Parallel.For(0, results.Length, i => results[i] = fresh.Encode(texts[i % texts.Length], addBos: false).ToArray());
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(expected[i % texts.Length], results[i]);
        }
    }

    [Fact]
    public void Encode_LoneSurrogate_IsEncodedAsReplacementCharacter() =>
        Assert.Equal(_tokenizer.Encode("a\uFFFDb", addBos: false), _tokenizer.Encode("a\uD800b", addBos: false));
}
