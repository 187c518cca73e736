using System.Text.Json.Nodes;
using DeepSeekOperator.Moe.Tokenization;
using static DeepSeekOperator.Moe.Tests.Tokenization.TestTokenizerJson;

namespace DeepSeekOperator.Moe.Tests.Tokenization;

public sealed class TextTokenizersTests : IDisposable
{
    private readonly TestModelDirectory _model = new();

    public void Dispose() => _model.Dispose();

    [Fact]
    public void Load_NoTokenizerFiles_GivesByteTokenizerOfTheModelVocabulary()
    {
        _model.Write("config.json", new JsonObject { ["vocab_size"] = 1024 });
        var tokenizer = TextTokenizers.Load(_model.Path, 1024);
        Assert.IsType<ByteTokenizer>(tokenizer);
        Assert.Equal(1024, tokenizer.VocabularySize);
        Assert.Equal([256, 'h', 'i'], tokenizer.Encode("hi", addBos: true));
    }

    [Fact]
    public void Load_NoTokenizerAndTooSmallVocabulary_SaysWhy()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TextTokenizers.Load(_model.Path, 100));
        Assert.Contains("has no tokenizer.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SentencePieceModelOnly_IsRefusedRatherThanReadAsBytes()
    {
        _model.Write("tokenizer.model", "not read");
        var error = Assert.Throws<NotSupportedException>(() => TextTokenizers.Load(_model.Path, 1024));
        Assert.Contains("tokenizer.model but no tokenizer.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingDirectory_NamesIt()
    {
        var missing = Path.Combine(_model.Path, "absent");
        var error = Assert.Throws<DirectoryNotFoundException>(() => TextTokenizers.Load(missing, 1024));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TokenizerConfigWithStringTokens_UsesThem()
    {
        _model.Write("tokenizer.json", Create());
        _model.Write("tokenizer_config.json", new JsonObject
        {
            ["bos_token"] = "<｜User｜>",
            ["eos_token"] = "<｜end▁of▁sentence｜>",
            ["add_bos_token"] = false,
        });
        var tokenizer = TextTokenizers.Load(_model.Path, VocabularySize);
        Assert.Equal(User, tokenizer.BosTokenId);
        Assert.Equal([Eos], tokenizer.EosTokenIds);
        Assert.False(tokenizer.AddBosToken);
    }

    [Fact]
    public void Load_OnlyConfigJson_TakesBosAndEveryEosFromIt()
    {
        _model.Write("tokenizer.json", Create());
        _model.Write("config.json", new JsonObject { ["bos_token_id"] = Bos, ["eos_token_id"] = new JsonArray(Eos, User) });
        var tokenizer = TextTokenizers.Load(_model.Path, VocabularySize);
        Assert.Equal(Bos, tokenizer.BosTokenId);
        Assert.Equal([Eos, User], tokenizer.EosTokenIds);

        // No add_bos_token anywhere: the post-processor's template, which starts with BOS, decides.
        Assert.True(tokenizer.AddBosToken);
    }

    [Fact]
    public void Load_BothConfigs_TokenizerConfigEosFirstThenConfigJsonOnes()
    {
        _model.Write("tokenizer.json", Create());
        _model.Write("tokenizer_config.json", CreateConfig());
        _model.Write("config.json", new JsonObject { ["bos_token_id"] = User, ["eos_token_id"] = new JsonArray(User, Eos) });
        var tokenizer = TextTokenizers.Load(_model.Path, VocabularySize);
        Assert.Equal(Bos, tokenizer.BosTokenId);
        Assert.Equal([Eos, User], tokenizer.EosTokenIds);
    }

    [Fact]
    public void Load_NoConfigs_TakesBosFromThePostProcessorTemplate()
    {
        _model.Write("tokenizer.json", Create());
        var tokenizer = TextTokenizers.Load(_model.Path, VocabularySize);
        Assert.Equal(Bos, tokenizer.BosTokenId);
        Assert.Empty(tokenizer.EosTokenIds);
        Assert.Equal([Bos, Hello], tokenizer.Encode("hello", addBos: true));
    }
}
