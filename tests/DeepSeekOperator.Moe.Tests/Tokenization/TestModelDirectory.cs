using System.Text.Json.Nodes;

namespace DeepSeekOperator.Moe.Tests.Tokenization;

/// <summary>A temporary model directory holding tokenizer files; deleted on dispose.</summary>
internal sealed class TestModelDirectory : IDisposable
{
    public TestModelDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"dsop-tokenizer-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string fileName, string content)
    {
        var file = System.IO.Path.Combine(Path, fileName);
        File.WriteAllText(file, content);
        return file;
    }

    public string Write(string fileName, JsonNode content) => Write(fileName, content.ToJsonString());

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>
/// A small byte-level BPE tokenizer.json in DeepSeek-V3's shape. Ids 0..255 are the bytes, in byte order, under
/// GPT-2's byte-to-character mapping (so 'h' is 104 and the space, written 'Ġ', is 32); merges make ids 256 on.
/// </summary>
internal static class TestTokenizerJson
{
    public const int Hello = 259;          // "hello"
    public const int SpaceWor = 262;       // " wor"
    public const int Twelve = 263;         // "12"
    public const int Ri = 265;             // "日" (E6 97 A5, written "æĹ¥")
    public const int ThirtyFour = 266;     // "34"
    public const int EmojiTailBang = 267;  // the last byte of an emoji (0x80, 'Ģ') then "!"
    public const int Bos = 268;            // added tokens follow the 268 entries of model.vocab
    public const int Eos = 269;
    public const int User = 270;
    public const int VocabularySize = 300; // the model's embedding has rows no token uses

    /// <summary>DeepSeek-V3's three Split patterns, as its tokenizer.json has them.</summary>
    public static readonly string[] DeepSeekV3Patterns =
    [
        @"\p{N}{1,3}",
        "[一-龥\u3040-ゟ゠-ヿ]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    ];

    /// <summary>The merges, by rank: each line is "left right" and makes the next id from 256.</summary>
    private static readonly string[] Merges =
    [
        "h e",      // 256 "he"
        "l l",      // 257 "ll"
        "he ll",    // 258 "hell"
        "hell o",   // 259 "hello"
        "Ġ w",      // 260 " w"
        "o r",      // 261 "or"
        "Ġw or",    // 262 " wor"
        "1 2",      // 263 "12"
        "æ Ĺ",      // 264 E6 97
        "æĹ ¥",     // 265 "日"
        "3 4",      // 266 "34"
        "Ģ !",      // 267 0x80 "!"
    ];

    public static JsonObject Create()
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++)
        {
            vocab[ByteSymbol(b).ToString()] = b;
        }

        var merges = new JsonArray();
        var next = 256;
        foreach (var merge in Merges)
        {
            merges.Add(merge);
            vocab[merge.Replace(" ", string.Empty, StringComparison.Ordinal)] = next++;
        }

        var preTokenizers = new JsonArray();
        foreach (var pattern in DeepSeekV3Patterns)
        {
            preTokenizers.Add(new JsonObject
            {
                ["type"] = "Split",
                ["pattern"] = new JsonObject { ["Regex"] = pattern },
                ["behavior"] = "Isolated",
                ["invert"] = false,
            });
        }

        preTokenizers.Add(new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false });
        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(
                AddedToken(Bos, "<｜begin▁of▁sentence｜>", special: true),
                AddedToken(Eos, "<｜end▁of▁sentence｜>", special: true),
                AddedToken(User, "<｜User｜>", special: false)),
            ["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = new JsonArray() },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Sequence", ["pretokenizers"] = preTokenizers },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<｜begin▁of▁sentence｜>", ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["pair"] = new JsonArray(),
                ["special_tokens"] = new JsonObject(),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
    }

    /// <summary>The tokenizer_config.json DeepSeek-V3 ships, in its AddedToken-object form.</summary>
    public static JsonObject CreateConfig() => new()
    {
        ["add_bos_token"] = true,
        ["add_eos_token"] = false,
        ["bos_token"] = new JsonObject { ["__type"] = "AddedToken", ["content"] = "<｜begin▁of▁sentence｜>", ["normalized"] = true },
        ["eos_token"] = new JsonObject { ["__type"] = "AddedToken", ["content"] = "<｜end▁of▁sentence｜>", ["normalized"] = true },
        ["tokenizer_class"] = "LlamaTokenizerFast",
    };

    /// <summary>GPT-2's bytes_to_unicode, written out independently of the code under test.</summary>
    public static char ByteSymbol(int b)
    {
        if (b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE)
        {
            return (char)b;
        }

        // The other 68 bytes, in order, become U+0100 on: 0x00..0x20, then 0x7F..0xA0, then 0xAD.
        var rank = b <= 0x20 ? b : b <= 0xA0 ? 0x21 + (b - 0x7F) : 0x21 + 0x22;
        return (char)(0x100 + rank);
    }

    private static JsonObject AddedToken(int id, string content, bool special) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = true,
        ["special"] = special,
    };
}
