using System.Text.Json;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>A token of a Hugging Face tokenizer's <c>added_tokens</c>: found whole in text before any other splitting.</summary>
/// <param name="Id">The token id.</param>
/// <param name="Content">The text of the token.</param>
/// <param name="Special">Whether decoding skips it.</param>
/// <param name="Normalized">Whether it is looked for after the text between the other added tokens is normalized.</param>
internal sealed record AddedToken(int Id, string Content, bool Special, bool Normalized);

/// <summary>What a byte-level BPE <c>tokenizer.json</c> holds, checked and in the shape Microsoft.ML.Tokenizers takes.</summary>
/// <param name="Path">The file it was read from.</param>
/// <param name="Vocabulary">model.vocab: byte-level token text to id.</param>
/// <param name="Merges">model.merges, each as "a b", by rank.</param>
/// <param name="AddedTokens">added_tokens.</param>
/// <param name="SplitRules">The pre-tokenizer's splitting steps, in order.</param>
/// <param name="TemplateBosToken">The special token that post_processor's TemplateProcessing puts before a single sequence, if any.</param>
internal sealed record TokenizerJsonModel(
    string Path,
    IReadOnlyDictionary<string, int> Vocabulary,
    IReadOnlyList<string> Merges,
    IReadOnlyList<AddedToken> AddedTokens,
    IReadOnlyList<SplitRule> SplitRules,
    string? TemplateBosToken)
{
    /// <summary>The id of a token's text: an added token's first, as Hugging Face's token_to_id, or null.</summary>
    public int? IdOf(string content)
    {
        foreach (var token in AddedTokens)
        {
            if (token.Content == content)
            {
                return token.Id;
            }
        }

        return Vocabulary.TryGetValue(content, out var id) ? id : null;
    }

    /// <summary>Whether some token has this id.</summary>
    public bool Defines(int id) => AddedTokens.Any(t => t.Id == id) || Vocabulary.Values.Contains(id);
}

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> of a byte-level BPE tokenizer (as DeepSeek-V3 and V2 ship). A construct
/// this runtime cannot reproduce exactly is refused with an error naming it, never tokenized some other way.
/// </summary>
internal static class TokenizerJson
{
    /// <summary>The pattern of the ByteLevel pre-tokenizer with use_regex (GPT-2's).</summary>
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Reads and checks <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed tokenizer.json.</exception>
    /// <exception cref="NotSupportedException">The file uses a construct this runtime does not reproduce.</exception>
    public static TokenizerJsonModel Read(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            return new Reader(path).Read(document.RootElement);
        }
    }

    private sealed class Reader(string path)
    {
        public TokenizerJsonModel Read(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid("the document", "is not a JSON object");
            }

            var model = Required(root, "model", "model", JsonValueKind.Object);
            var type = Optional(model, "type", "model.type", JsonValueKind.String)?.GetString()
                ?? throw Invalid("model.type", "is missing");
            if (type != "BPE")
            {
                throw Unsupported("model.type", $"is \"{type}\"; only \"BPE\" (byte-level BPE) is supported");
            }

            CheckModelOptions(model);
            var vocabulary = ReadVocabulary(model);
            CheckByteAlphabet(vocabulary);
            var merges = ReadMerges(model, vocabulary);
            var addedTokens = ReadAddedTokens(root);
            CheckAddedTokenIds(addedTokens, vocabulary);
            CheckNormalizer(root);
            var rules = ReadPreTokenizer(root);
            CheckDecoder(root);
            var templateBos = ReadPostProcessor(root);
            return new TokenizerJsonModel(path, vocabulary, merges, addedTokens, rules, templateBos);
        }

        private void CheckModelOptions(JsonElement model)
        {
            if (Optional(model, "dropout", "model.dropout", JsonValueKind.Number) is { } dropout && dropout.GetDouble() != 0)
            {
                throw Unsupported("model.dropout", $"is {dropout.GetRawText()}; BPE dropout (random merges) is not supported");
            }

            foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            {
                if (Optional(model, key, $"model.{key}", JsonValueKind.String)?.GetString() is { Length: > 0 } affix)
                {
                    throw Unsupported($"model.{key}", $"is \"{affix}\"; byte-level BPE has none");
                }
            }

            if (OptionalBool(model, "ignore_merges", "model.ignore_merges") == true)
            {
                throw Unsupported("model.ignore_merges", "is true; only false is supported");
            }
        }

        private Dictionary<string, int> ReadVocabulary(JsonElement model)
        {
            var vocab = Required(model, "vocab", "model.vocab", JsonValueKind.Object);
            var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
            var tokenOfId = new Dictionary<int, string>();
            foreach (var entry in vocab.EnumerateObject())
            {
                var key = $"model.vocab[\"{entry.Name}\"]";
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                {
                    throw Invalid(key, $"is {entry.Value.GetRawText()}, not a token id (a non-negative 32-bit integer)");
                }

                if (!vocabulary.TryAdd(entry.Name, id))
                {
                    throw Invalid(key, "appears twice");
                }

                if (!tokenOfId.TryAdd(id, entry.Name))
                {
                    throw Invalid(key, $"has id {id}, which \"{tokenOfId[id]}\" has too");
                }
            }

            return vocabulary;
        }

        private void CheckByteAlphabet(Dictionary<string, int> vocabulary)
        {
            for (var b = 0; b < 256; b++)
            {
                var symbol = ByteLevelAlphabet.CharOf((byte)b).ToString();
                if (!vocabulary.ContainsKey(symbol))
                {
                    throw Invalid("model.vocab", $"lacks \"{symbol}\", the byte-level symbol of byte 0x{b:X2}; a byte-level BPE vocabulary has all 256");
                }
            }
        }

        private List<string> ReadMerges(JsonElement model, Dictionary<string, int> vocabulary)
        {
            var merges = Optional(model, "merges", "model.merges", JsonValueKind.Array);
            if (merges is null)
            {
                return [];
            }

            // A pair listed twice keeps its last rank, as in Hugging Face; dropping the earlier copy keeps the order of the rest.
            var pairs = new List<(string Left, string Right)>();
            var index = 0;
            foreach (var element in merges.Value.EnumerateArray())
            {
                var key = $"model.merges[{index++}]";
                var (left, right) = ReadMerge(element, key);
                if (!vocabulary.ContainsKey(left) || !vocabulary.ContainsKey(right))
                {
                    throw Invalid(key, $"merges \"{left}\" and \"{right}\", but \"{(vocabulary.ContainsKey(left) ? right : left)}\" is not in model.vocab");
                }

                if (!vocabulary.ContainsKey(left + right))
                {
                    throw Invalid(key, $"merges \"{left}\" and \"{right}\", but their merge \"{left + right}\" is not in model.vocab");
                }

                pairs.Add((left, right));
            }

            var lastRank = new Dictionary<(string, string), int>();
            for (var i = 0; i < pairs.Count; i++)
            {
                lastRank[pairs[i]] = i;
            }

            return pairs.Where((pair, i) => lastRank[pair] == i).Select(pair => $"{pair.Left} {pair.Right}").ToList();
        }

        private (string Left, string Right) ReadMerge(JsonElement element, string key)
        {
            if (element.ValueKind == JsonValueKind.String)
            {
                var parts = element.GetString()!.Split(' ');
                return parts.Length == 2 && parts[0].Length > 0 && parts[1].Length > 0
                    ? (parts[0], parts[1])
                    : throw Invalid(key, $"is {element.GetRawText()}, not two tokens separated by one space");
            }

            if (element.ValueKind == JsonValueKind.Array && element.GetArrayLength() == 2
                && element[0].ValueKind == JsonValueKind.String && element[1].ValueKind == JsonValueKind.String)
            {
                var left = element[0].GetString()!;
                var right = element[1].GetString()!;
                if (left.Length == 0 || right.Length == 0)
                {
                    throw Invalid(key, $"is {element.GetRawText()}, which has an empty token");
                }

                if (left.Contains(' ', StringComparison.Ordinal) || right.Contains(' ', StringComparison.Ordinal))
                {
                    throw Unsupported(key, $"is {element.GetRawText()}, a token with a space, which Microsoft.ML.Tokenizers' \"a b\" merges cannot hold");
                }

                return (left, right);
            }

            throw Invalid(key, $"is {element.GetRawText()}, neither \"a b\" nor [\"a\", \"b\"]");
        }

        private List<AddedToken> ReadAddedTokens(JsonElement root)
        {
            var tokens = new List<AddedToken>();
            var array = Optional(root, "added_tokens", "added_tokens", JsonValueKind.Array);
            if (array is null)
            {
                return tokens;
            }

            var index = 0;
            foreach (var element in array.Value.EnumerateArray())
            {
                var key = $"added_tokens[{index++}]";
                if (element.ValueKind != JsonValueKind.Object)
                {
                    throw Invalid(key, "is not an object");
                }

                var idElement = Required(element, "id", $"{key}.id", JsonValueKind.Number);
                if (!idElement.TryGetInt32(out var id) || id < 0)
                {
                    throw Invalid($"{key}.id", $"is {idElement.GetRawText()}, not a token id");
                }

                var content = Required(element, "content", $"{key}.content", JsonValueKind.String).GetString()!;
                if (content.Length == 0)
                {
                    throw Invalid($"{key}.content", "is empty");
                }

                foreach (var flag in new[] { "single_word", "lstrip", "rstrip" })
                {
                    if (OptionalBool(element, flag, $"{key}.{flag}") == true)
                    {
                        throw Unsupported($"{key}.{flag}", $"is true (token \"{content}\"); only false is supported");
                    }
                }

                var special = OptionalBool(element, "special", $"{key}.special") ?? false;
                var normalized = OptionalBool(element, "normalized", $"{key}.normalized") ?? !special;
                if (tokens.Find(t => t.Content == content || t.Id == id) is { } other)
                {
                    throw Invalid(key, $"(\"{content}\", id {id}) repeats the content or id of \"{other.Content}\" (id {other.Id})");
                }

                tokens.Add(new AddedToken(id, content, special, normalized));
            }

            return tokens;
        }

        /// <summary>
        /// Hugging Face does not take an added token's id from the file: a token of model.vocab keeps its id there, any
        /// other gets the next id after the model's vocabulary and the added tokens before it (with only a warning
        /// when the file says otherwise). A file whose ids disagree would be tokenized one way here and another there.
        /// </summary>
        private void CheckAddedTokenIds(List<AddedToken> addedTokens, Dictionary<string, int> vocabulary)
        {
            int? highest = null;
            for (var i = 0; i < addedTokens.Count; i++)
            {
                var token = addedTokens[i];
                var expected = vocabulary.TryGetValue(token.Content, out var id)
                    ? id
                    : highest is { } max && max >= vocabulary.Count ? max + 1 : vocabulary.Count;
                if (token.Id != expected)
                {
                    throw Invalid($"added_tokens[{i}].id", $"is {token.Id} for \"{token.Content}\", but Hugging Face gives it {expected} "
                        + (vocabulary.ContainsKey(token.Content) ? "(its id in model.vocab)" : "(the next id after model.vocab and the added tokens before it)"));
                }

                highest = Math.Max(highest ?? token.Id, token.Id);
            }
        }

        private void CheckNormalizer(JsonElement root)
        {
            if (Optional(root, "normalizer", "normalizer", JsonValueKind.Object) is not { } normalizer)
            {
                return;
            }

            var type = RequiredString(normalizer, "type", "normalizer.type");
            if (type == "Sequence" && Required(normalizer, "normalizers", "normalizer.normalizers", JsonValueKind.Array).GetArrayLength() == 0)
            {
                return;
            }

            var key = type == "Sequence" ? "normalizer.normalizers[0].type" : "normalizer.type";
            var shown = type == "Sequence" ? normalizer.GetProperty("normalizers")[0].GetRawText() : $"\"{type}\"";
            throw Unsupported(key, $"is {shown}; only tokenizers without a normalizer are supported");
        }

        private List<SplitRule> ReadPreTokenizer(JsonElement root)
        {
            var preTokenizer = Optional(root, "pre_tokenizer", "pre_tokenizer", JsonValueKind.Object)
                ?? throw Unsupported("pre_tokenizer", "is missing; only byte-level BPE tokenizers (with a ByteLevel pre-tokenizer) are supported");
            var steps = new List<(JsonElement Step, string Key)>();
            Flatten(preTokenizer, "pre_tokenizer", "pretokenizers", steps);
            var rules = new List<SplitRule>();
            string? byteLevel = null;
            foreach (var (step, key) in steps)
            {
                var type = RequiredString(step, "type", $"{key}.type");
                if (byteLevel is not null)
                {
                    throw Unsupported(key, $"({type}) comes after the ByteLevel step {byteLevel}; only ByteLevel as the last step is supported");
                }

                switch (type)
                {
                    case "Split":
                        rules.Add(ReadSplit(step, key));
                        break;
                    case "Digits":
                        var individual = OptionalBool(step, "individual_digits", $"{key}.individual_digits") ?? false;
                        rules.Add(new SplitRule(new CodePointRegex(@"\p{N}", Location(key)), individual ? SplitBehavior.Isolated : SplitBehavior.Contiguous, invert: false));
                        break;
                    case "ByteLevel":
                        var addPrefixSpace = OptionalBool(step, "add_prefix_space", $"{key}.add_prefix_space")
                            ?? throw Invalid($"{key}.add_prefix_space", "is missing");
                        if (addPrefixSpace)
                        {
                            throw Unsupported($"{key}.add_prefix_space", "is true; only false is supported");
                        }

                        if (OptionalBool(step, "use_regex", $"{key}.use_regex") ?? true)
                        {
                            rules.Add(new SplitRule(new CodePointRegex(Gpt2Pattern, Location($"{key}.use_regex")), SplitBehavior.Isolated, invert: false));
                        }

                        byteLevel = key;
                        break;
                    default:
                        throw Unsupported($"{key}.type", $"is \"{type}\"; supported are Split, Digits and a last ByteLevel");
                }
            }

            return byteLevel is null
                ? throw Unsupported("pre_tokenizer", "has no ByteLevel step; only byte-level BPE tokenizers are supported")
                : rules;
        }

        private SplitRule ReadSplit(JsonElement step, string key)
        {
            var pattern = Required(step, "pattern", $"{key}.pattern", JsonValueKind.Object);
            CodePointRegex regex;
            if (Optional(pattern, "Regex", $"{key}.pattern.Regex", JsonValueKind.String) is { } text)
            {
                regex = new CodePointRegex(text.GetString()!, Location($"{key}.pattern.Regex"));
            }
            else if (Optional(pattern, "String", $"{key}.pattern.String", JsonValueKind.String) is { } literal)
            {
                regex = new CodePointRegex(Regex.Escape(literal.GetString()!), Location($"{key}.pattern.String"));
            }
            else
            {
                throw Invalid($"{key}.pattern", "has neither Regex nor String");
            }

            var behaviorName = RequiredString(step, "behavior", $"{key}.behavior");
            if (!Enum.TryParse<SplitBehavior>(behaviorName, ignoreCase: false, out var behavior) || !Enum.IsDefined(behavior))
            {
                throw Unsupported($"{key}.behavior", $"is \"{behaviorName}\"; expected Isolated, Removed, MergedWithPrevious, MergedWithNext or Contiguous");
            }

            var invert = OptionalBool(step, "invert", $"{key}.invert") ?? false;
            return new SplitRule(regex, behavior, invert);
        }

        private void CheckDecoder(JsonElement root)
        {
            var decoder = Optional(root, "decoder", "decoder", JsonValueKind.Object)
                ?? throw Unsupported("decoder", "is missing; only the ByteLevel decoder is supported");
            var type = RequiredString(decoder, "type", "decoder.type");
            if (type != "ByteLevel")
            {
                throw Unsupported("decoder.type", $"is \"{type}\"; only ByteLevel is supported");
            }
        }

        private string? ReadPostProcessor(JsonElement root)
        {
            if (Optional(root, "post_processor", "post_processor", JsonValueKind.Object) is not { } postProcessor)
            {
                return null;
            }

            var steps = new List<(JsonElement Step, string Key)>();
            Flatten(postProcessor, "post_processor", "processors", steps);
            string? bos = null;
            foreach (var (step, key) in steps)
            {
                var type = RequiredString(step, "type", $"{key}.type");
                switch (type)
                {
                    case "ByteLevel":
                        // Adjusts offsets only.
                        break;
                    case "TemplateProcessing":
                        // Encode adds BOS when asked to and no other special token, whatever the template says.
                        var single = Required(step, "single", $"{key}.single", JsonValueKind.Array);
                        if (single.GetArrayLength() > 0 && single[0].ValueKind == JsonValueKind.Object
                            && single[0].TryGetProperty("SpecialToken", out var first) && first.ValueKind == JsonValueKind.Object
                            && first.TryGetProperty("id", out var firstId) && firstId.ValueKind == JsonValueKind.String)
                        {
                            bos = firstId.GetString();
                        }

                        break;
                    default:
                        throw Unsupported($"{key}.type", $"is \"{type}\"; supported are ByteLevel and TemplateProcessing");
                }
            }

            return bos;
        }

        /// <summary>The steps of a pre-tokenizer or post-processor, with a Sequence's members in its place.</summary>
        private void Flatten(JsonElement element, string key, string membersName, List<(JsonElement Step, string Key)> steps)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(key, "is not an object");
            }

            if (RequiredString(element, "type", $"{key}.type") != "Sequence")
            {
                steps.Add((element, key));
                return;
            }

            var members = Required(element, membersName, $"{key}.{membersName}", JsonValueKind.Array);
            var index = 0;
            foreach (var member in members.EnumerateArray())
            {
                Flatten(member, $"{key}.{membersName}[{index++}]", membersName, steps);
            }
        }

        private JsonElement Required(JsonElement parent, string name, string key, JsonValueKind kind) =>
            Optional(parent, name, key, kind) ?? throw Invalid(key, "is missing");

        private string RequiredString(JsonElement parent, string name, string key) =>
            Required(parent, name, key, JsonValueKind.String).GetString()!;

        /// <summary>The member, or null when it is absent or JSON null; any other kind than <paramref name="kind"/> is an error.</summary>
        private JsonElement? Optional(JsonElement parent, string name, string key, JsonValueKind kind)
        {
            if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return value.ValueKind == kind
                ? value
                : throw Invalid(key, $"is {value.GetRawText()}, not {Describe(kind)}");
        }

        private bool? OptionalBool(JsonElement parent, string name, string key)
        {
            if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Invalid(key, $"is {value.GetRawText()}, not true or false"),
            };
        }

        private static string Describe(JsonValueKind kind) => kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            _ => kind.ToString(),
        };

        private string Location(string key) => $"{path}: {key}";

        private InvalidDataException Invalid(string key, string what) => new($"{path}: {key} {what}");

        private NotSupportedException Unsupported(string key, string what) => new($"{path}: {key} {what}");
    }
}
