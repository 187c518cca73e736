using System.Text.Json;

namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>
/// Reads <c>model.safetensors.index.json</c>: <c>{"metadata": {"total_size": N}, "weight_map": {"tensor": "shard file"}}</c>.
/// Keys must be unique at every level, <c>weight_map</c> must map names to bare file names, and <c>metadata</c>, when
/// present, must be an object.
/// </summary>
internal static class CheckpointIndex
{
    /// <summary>The file name Hugging Face gives the index of a sharded checkpoint.</summary>
    public const string FileName = "model.safetensors.index.json";

    /// <summary>Parses the index at <paramref name="path"/>.</summary>
    /// <returns>The weight map: tensor name → shard file name.</returns>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, null, $"the index cannot be read: {error.Message}", error);
        }

        Dictionary<string, string>? weightMap = null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new CheckpointException(path, null, "the index is not a JSON object");
            }

            HashSet<string> keys = new(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var key = reader.GetString()!;
                if (!keys.Add(key))
                {
                    throw new CheckpointException(path, null, $"the index has the key '{key}' twice");
                }

                reader.Read();
                switch (key)
                {
                    case "weight_map":
                        weightMap = ReadWeightMap(ref reader, path);
                        break;
                    case "metadata" when reader.TokenType is not JsonTokenType.StartObject and not JsonTokenType.Null:
                        throw new CheckpointException(path, null, "the index's 'metadata' is not an object");
                    default:
                        // "metadata" (total_size and whatever else a writer keeps there) and keys of later versions are not needed to load.
                        SkipUnique(ref reader, path, key);
                        break;
                }
            }

            // Only whitespace may follow the object; the reader throws on anything else.
            if (reader.Read())
            {
                throw new CheckpointException(path, null, "the index has more after its JSON object");
            }
        }
        catch (JsonException error)
        {
            throw new CheckpointException(path, null, $"the index is not valid JSON: {error.Message}", error);
        }

        return weightMap ?? throw new CheckpointException(path, null, "the index has no 'weight_map'");
    }

    private static Dictionary<string, string> ReadWeightMap(ref Utf8JsonReader reader, string path)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new CheckpointException(path, null, "the index's 'weight_map' is not an object of tensor name to file name");
        }

        Dictionary<string, string> map = new(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new CheckpointException(path, name, "weight_map maps the tensor to something other than a file name");
            }

            var file = reader.GetString()!;
            if (file.Length == 0 || file != Path.GetFileName(file) || file is "." or "..")
            {
                throw new CheckpointException(path, name, $"weight_map maps the tensor to \"{file}\", which is not a file name in the checkpoint's directory");
            }

            if (!map.TryAdd(name, file))
            {
                throw new CheckpointException(path, name, "weight_map names the tensor twice");
            }
        }

        return map;
    }

    /// <summary>Skips a value, still rejecting objects within it that repeat a key.</summary>
    private static void SkipUnique(ref Utf8JsonReader reader, string path, string at)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            HashSet<string> keys = new(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var key = reader.GetString()!;
                if (!keys.Add(key))
                {
                    throw new CheckpointException(path, null, $"the index's '{at}' has the key '{key}' twice");
                }

                reader.Read();
                SkipUnique(ref reader, path, $"{at}.{key}");
            }
        }
        else if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                SkipUnique(ref reader, path, at);
            }
        }
    }
}
