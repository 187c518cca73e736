using System.Text.Json;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>The BOS and EOS tokens of a model with a tokenizer.json, and whether prompts start with BOS.</summary>
/// <param name="BosTokenId">The beginning-of-sequence token, if any.</param>
/// <param name="EosTokenIds">The tokens that end generation.</param>
/// <param name="AddBosToken">Whether a prompt starts with BOS.</param>
internal sealed record SpecialTokenChoice(int? BosTokenId, IReadOnlyList<int> EosTokenIds, bool AddBosToken)
{
    /// <summary>
    /// Reads them from the model directory: <c>tokenizer_config.json</c>'s <c>bos_token</c>, <c>eos_token</c> and
    /// <c>add_bos_token</c> where it has them; else <c>config.json</c>'s <c>bos_token_id</c> and <c>eos_token_id</c>
    /// (an integer or a list); else the special token tokenizer.json's post-processor template starts with.
    /// The EOS tokens of both files count, tokenizer_config.json's first.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is not valid JSON, or names a token tokenizer.json does not have.</exception>
    public static SpecialTokenChoice Read(string modelDirectory, TokenizerJsonModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        int? bos = null;
        bool? addBos = null;
        var eos = new List<int>();

        var tokenizerConfig = Path.Combine(modelDirectory, "tokenizer_config.json");
        if (File.Exists(tokenizerConfig))
        {
            using var document = Parse(tokenizerConfig);
            var root = document.RootElement;
            bos = TokenOf(root, "bos_token", tokenizerConfig, model);
            if (TokenOf(root, "eos_token", tokenizerConfig, model) is { } eosToken)
            {
                eos.Add(eosToken);
            }

            if (root.TryGetProperty("add_bos_token", out var add) && add.ValueKind != JsonValueKind.Null)
            {
                addBos = add.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new InvalidDataException($"{tokenizerConfig}: add_bos_token is {add.GetRawText()}, not true or false"),
                };
            }
        }

        var config = Path.Combine(modelDirectory, "config.json");
        if (File.Exists(config))
        {
            using var document = Parse(config);
            var root = document.RootElement;
            var configBos = IdsOf(root, "bos_token_id", config, model);
            if (configBos.Count > 1)
            {
                throw new InvalidDataException($"{config}: bos_token_id lists {configBos.Count} tokens; a sequence has one beginning");
            }

            bos ??= configBos.Count == 1 ? configBos[0] : null;
            eos.AddRange(IdsOf(root, "eos_token_id", config, model).Where(id => !eos.Contains(id)));
        }

        if (bos is null && model.TemplateBosToken is { } templateBos)
        {
            bos = model.IdOf(templateBos)
                ?? throw new InvalidDataException($"{model.Path}: post_processor's template starts with \"{templateBos}\", which is not a token");
        }

        return new SpecialTokenChoice(bos, eos, bos is not null && (addBos ?? model.TemplateBosToken is not null));
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document
                : throw new InvalidDataException($"{path}: the document is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>The id of a token named by its text, or by an object with its "content" (an AddedToken), or null when absent.</summary>
    private static int? TokenOf(JsonElement root, string key, string path, TokenizerJsonModel model)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var content = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Object when value.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString()!,
            _ => throw new InvalidDataException($"{path}: {key} is {value.GetRawText()}, neither a token's text nor an object with its content"),
        };
        return model.IdOf(content)
            ?? throw new InvalidDataException($"{path}: {key} \"{content}\" is not a token of {model.Path}");
    }

    private static List<int> IdsOf(JsonElement root, string key, string path, TokenizerJsonModel model)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        var elements = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToList() : [value];
        var ids = new List<int>();
        foreach (var element in elements)
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out var id) || id < 0)
            {
                throw new InvalidDataException($"{path}: {key} is {value.GetRawText()}, not a token id or a list of them");
            }

            ids.Add(model.Defines(id)
                ? id
                : throw new InvalidDataException($"{path}: {key} {id} is not a token of {model.Path}"));
        }

        return ids;
    }
}
