using System.Text.Json.Nodes;
using DeepSeekOperator.Moe.Tokenization;
using static DeepSeekOperator.Moe.Tests.Tokenization.TestTokenizerJson;

namespace DeepSeekOperator.Moe.Tests.Tokenization;

public sealed class TokenizerJsonErrorTests : IDisposable
{
    private readonly TestModelDirectory _model = new();

    public void Dispose() => _model.Dispose();

    [Fact]
    public void Load_UnigramModel_NamesModelType()
    {
        var json = Create();
        json["model"]!["type"] = "Unigram";
        var error = LoadFails<NotSupportedException>(json);
        Assert.Contains("model.type is \"Unigram\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ModelWithoutType_NamesModelType() =>
        AssertNames<InvalidDataException>(Without(Create(), j => j["model"]!.AsObject().Remove("type")), "model.type is missing");

    [Fact]
    public void Load_Normalizer_NamesNormalizerType()
    {
        var json = Create();
        json["normalizer"] = new JsonObject { ["type"] = "NFC" };
        AssertNames<NotSupportedException>(json, "normalizer.type is \"NFC\"");
    }

    [Fact]
    public void Load_MetaspacePreTokenizer_NamesTheStep()
    {
        var json = Create();
        json["pre_tokenizer"]!["pretokenizers"]![1] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "▁" };
        AssertNames<NotSupportedException>(json, "pre_tokenizer.pretokenizers[1].type is \"Metaspace\"");
    }

    [Fact]
    public void Load_PreTokenizerWithoutByteLevel_IsRefused()
    {
        var json = Create();
        json["pre_tokenizer"]!["pretokenizers"]!.AsArray().RemoveAt(3);
        AssertNames<NotSupportedException>(json, "pre_tokenizer has no ByteLevel step");
    }

    [Fact]
    public void Load_ByteLevelAddPrefixSpace_NamesTheFlag()
    {
        var json = Create();
        json["pre_tokenizer"]!["pretokenizers"]![3]!["add_prefix_space"] = true;
        AssertNames<NotSupportedException>(json, "pre_tokenizer.pretokenizers[3].add_prefix_space is true");
    }

    [Theory]
    [InlineData(@"\p{L}++", "not one .NET regular expressions can run")]
    [InlineData("[[:alpha:]]+", "POSIX bracket")]
    [InlineData("[a-z&&[^aeiou]]", "class intersection")]
    [InlineData("(?m:.+)", "inline option group (?m)")]
    [InlineData(@"\p{Han}+", "not one .NET regular expressions can run")]
    public void Load_PatternDotNetWouldReadDifferently_NamesThePattern(string pattern, string reason)
    {
        var json = Create();
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = pattern;
        var error = AssertNames<NotSupportedException>(json, "pre_tokenizer.pretokenizers[0].pattern.Regex");
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnknownSplitBehavior_NamesIt()
    {
        var json = Create();
        json["pre_tokenizer"]!["pretokenizers"]![2]!["behavior"] = "Sideways";
        AssertNames<NotSupportedException>(json, "pre_tokenizer.pretokenizers[2].behavior is \"Sideways\"");
    }

    [Fact]
    public void Load_AddedTokenWithLstrip_NamesTheFlag()
    {
        var json = Create();
        json["added_tokens"]![2]!["lstrip"] = true;
        AssertNames<NotSupportedException>(json, "added_tokens[2].lstrip is true");
    }

    [Fact]
    public void Load_AddedTokenIdHuggingFaceWouldNotGive_NamesIt()
    {
        var json = Create();
        json["added_tokens"]![2]!["id"] = 290;
        AssertNames<InvalidDataException>(json, "added_tokens[2].id is 290 for \"<｜User｜>\", but Hugging Face gives it 270");
    }

    [Fact]
    public void Load_IgnoreMerges_NamesIt()
    {
        var json = Create();
        json["model"]!["ignore_merges"] = true;
        AssertNames<NotSupportedException>(json, "model.ignore_merges is true");
    }

    [Fact]
    public void Load_MergeOfUnknownToken_NamesTheMerge()
    {
        var json = Create();
        json["model"]!["merges"]!.AsArray().Add("he xyz");
        AssertNames<InvalidDataException>(json, "model.merges[12] merges \"he\" and \"xyz\", but \"xyz\" is not in model.vocab");
    }

    [Fact]
    public void Load_MergeWhoseResultIsMissing_NamesTheMerge()
    {
        var json = Create();
        json["model"]!["merges"]!.AsArray().Add("h ll");
        AssertNames<InvalidDataException>(json, "model.merges[12] merges \"h\" and \"ll\", but their merge \"hll\" is not in model.vocab");
    }

    [Fact]
    public void Load_MergesAsPairs_AreReadLikeStrings()
    {
        var json = Create();
        var merges = json["model"]!["merges"]!.AsArray();
        var pairs = new JsonArray(merges.Select(m => (JsonNode)new JsonArray([.. m!.GetValue<string>().Split(' ').Select(p => JsonValue.Create(p))])).ToArray());
        json["model"]!["merges"] = pairs;
        _model.Write("tokenizer.json", json);
        Assert.Equal([Hello], TextTokenizers.Load(_model.Path, VocabularySize).Encode("hello", addBos: false));
    }

    [Fact]
    public void Load_VocabularyWithoutAByte_NamesTheByte()
    {
        var json = Create();
        json["model"]!["vocab"]!.AsObject().Remove("Ġ");
        AssertNames<InvalidDataException>(json, "model.vocab lacks \"Ġ\", the byte-level symbol of byte 0x20");
    }

    [Fact]
    public void Load_TokenIdBeyondModelVocabulary_NamesTheToken()
    {
        _model.Write("tokenizer.json", Create());
        var error = Assert.Throws<InvalidDataException>(() => TextTokenizers.Load(_model.Path, 269));
        Assert.Contains("added token \"<｜end▁of▁sentence｜>\" has id 269, not below the model's vocab_size 269", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_VocabularyIdNotANumber_NamesTheEntry()
    {
        var json = Create();
        json["model"]!["vocab"]!["he"] = "256";
        AssertNames<InvalidDataException>(json, "model.vocab[\"he\"] is \"256\", not a token id");
    }

    [Fact]
    public void Load_DecoderOtherThanByteLevel_NamesDecoderType()
    {
        var json = Create();
        json["decoder"] = new JsonObject { ["type"] = "WordPiece" };
        AssertNames<NotSupportedException>(json, "decoder.type is \"WordPiece\"");
    }

    [Fact]
    public void Load_NotJson_NamesTheFile()
    {
        var file = _model.Write("tokenizer.json", "{\"model\": ");
        var error = Assert.Throws<InvalidDataException>(() => TextTokenizers.Load(_model.Path, VocabularySize));
        Assert.StartsWith($"{file}: not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TokenizerConfigBosTokenNotInVocabulary_NamesFileAndKey()
    {
        _model.Write("tokenizer.json", Create());
        var config = _model.Write("tokenizer_config.json", new JsonObject { ["bos_token"] = "<s>" });
        var error = Assert.Throws<InvalidDataException>(() => TextTokenizers.Load(_model.Path, VocabularySize));
        Assert.StartsWith($"{config}: bos_token \"<s>\" is not a token of", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ConfigEosTokenIdNotAToken_NamesFileAndKey()
    {
        _model.Write("tokenizer.json", Create());
        var config = _model.Write("config.json", new JsonObject { ["eos_token_id"] = new JsonArray(Eos, 290) });
        var error = Assert.Throws<InvalidDataException>(() => TextTokenizers.Load(_model.Path, VocabularySize));
        Assert.StartsWith($"{config}: eos_token_id 290 is not a token of", error.Message, StringComparison.Ordinal);
    }

    private static JsonObject Without(JsonObject json, Action<JsonObject> change)
    {
        change(json);
        return json;
    }

    private TException AssertNames<TException>(JsonObject json, string expected)
        where TException : Exception
    {
        var error = LoadFails<TException>(json);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        return error;
    }

    private TException LoadFails<TException>(JsonObject json)
        where TException : Exception
    {
        var file = _model.Write("tokenizer.json", json);
        var error = Assert.Throws<TException>(() => TextTokenizers.Load(_model.Path, VocabularySize));
        Assert.StartsWith($"{file}: ", error.Message, StringComparison.Ordinal);
        return error;
    }
}
