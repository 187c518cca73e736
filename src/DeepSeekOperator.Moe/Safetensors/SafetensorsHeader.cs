using System.Text.Json;
using System.Text.Unicode;

namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>
/// Parses and checks the header of a safetensors file against every rule of the format: the 8-byte little-endian
/// length, at most <see cref="MaxLength"/> bytes of UTF-8 JSON that fit in the file, one JSON object whose keys are
/// unique, an optional <c>__metadata__</c> object of strings, and for every other key exactly <c>dtype</c> (a known
/// name), <c>shape</c> (non-negative integers) and <c>data_offsets</c> (<c>[begin, end]</c>, <c>end &gt;= begin</c>, as many
/// bytes as the shape and dtype need), the tensors' data tiling the data buffer from its first byte to the end of the
/// file with no gap and no overlap.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The largest header the format's reference reader accepts (100 MB).</summary>
    public const long MaxLength = 100_000_000;

    /// <summary>The result of parsing: the metadata, the tensors in data order, and where the data buffer begins.</summary>
    public sealed record Parsed(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<TensorEntry> Tensors, long DataStart);

    private sealed record RawEntry(string Name, SafetensorsDtype Dtype, long[] Shape, long Begin, long End);

    /// <summary>Reads the header length from the first 8 bytes and checks it against the bound and the file's length.</summary>
    /// <returns>The header length N; the JSON is bytes [8, 8 + N) of the file.</returns>
    public static long ReadLength(ReadOnlySpan<byte> prefix, long fileLength, string file)
    {
        if (fileLength < sizeof(ulong))
        {
            throw new CheckpointException(file, null, $"the file is {fileLength} bytes, too short to hold the 8-byte header length (truncated?)");
        }

        var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length > MaxLength)
        {
            throw new CheckpointException(file, null, $"the header length {length} exceeds the format's limit of {MaxLength} bytes");
        }

        if ((long)length > fileLength - sizeof(ulong))
        {
            throw new CheckpointException(file, null, $"the header length {length} runs past the end of the file, which holds {fileLength - sizeof(ulong)} bytes after the 8-byte length (truncated?)");
        }

        return (long)length;
    }

    /// <summary>Parses and checks the header JSON.</summary>
    /// <param name="json">The N bytes after the length.</param>
    /// <param name="fileLength">The length of the whole file.</param>
    /// <param name="file">The file's path, for messages and for the entries.</param>
    public static Parsed Parse(ReadOnlySpan<byte> json, long fileLength, string file)
    {
        if (!Utf8.IsValid(json))
        {
            throw new CheckpointException(file, null, "the header is not valid UTF-8");
        }

        Dictionary<string, string> metadata = new(StringComparer.Ordinal);
        List<RawEntry> entries = [];
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new CheckpointException(file, null, $"the header is not a JSON object (it starts with {Describe(reader)})");
            }

            HashSet<string> keys = new(StringComparer.Ordinal);
            while (Next(ref reader, file, null) != JsonTokenType.EndObject)
            {
                var key = reader.GetString()!;
                if (!keys.Add(key))
                {
                    throw key == "__metadata__"
                        ? new CheckpointException(file, null, "the header has the key '__metadata__' twice")
                        : new CheckpointException(file, key, "the header names this tensor twice");
                }

                if (key == "__metadata__")
                {
                    ReadMetadata(ref reader, file, metadata);
                }
                else
                {
                    entries.Add(ReadEntry(ref reader, file, key));
                }
            }

            // Only whitespace may follow the object; the reader throws on anything else.
            if (reader.Read())
            {
                throw new CheckpointException(file, null, "the header has more after its JSON object");
            }
        }
        catch (JsonException error)
        {
            throw new CheckpointException(file, null, $"the header is not valid JSON: {error.Message}", error);
        }

        var dataStart = sizeof(ulong) + (long)json.Length;
        return new Parsed(metadata, Validate(entries, fileLength - dataStart, dataStart, file), dataStart);
    }

    private static List<TensorEntry> Validate(List<RawEntry> entries, long bufferLength, long dataStart, string file)
    {
        foreach (var entry in entries)
        {
            long elements;
            long needed;
            try
            {
                elements = ShapeText.ElementCount(entry.Shape);
                needed = checked(elements * entry.Dtype.ElementSize());
            }
            catch (OverflowException)
            {
                throw new CheckpointException(file, entry.Name, $"{entry.Dtype} {ShapeText.Format(entry.Shape)} has more bytes than a 64-bit count holds");
            }

            var held = entry.End - entry.Begin;
            if (held != needed)
            {
                throw new CheckpointException(file, entry.Name, $"data_offsets [{entry.Begin}, {entry.End}] hold {held} bytes but {entry.Dtype} {ShapeText.Format(entry.Shape)} needs {needed}");
            }
        }

        // Sorted by where they begin, the tensors must tile the data buffer: the first at 0, each next where the previous ended, the last at its end.
        entries.Sort((left, right) => (left.Begin, left.End).CompareTo((right.Begin, right.End)) is var order and not 0 ? order : string.CompareOrdinal(left.Name, right.Name));
        List<TensorEntry> tensors = new(entries.Count);
        RawEntry? previous = null;
        foreach (var entry in entries)
        {
            var expected = previous?.End ?? 0;
            if (entry.Begin < expected)
            {
                throw new CheckpointException(file, entry.Name, $"data_offsets [{entry.Begin}, {entry.End}] overlap tensor '{previous!.Name}' at [{previous.Begin}, {previous.End}]");
            }

            if (entry.Begin > expected)
            {
                throw previous is null
                    ? new CheckpointException(file, entry.Name, $"data_offsets [{entry.Begin}, {entry.End}] leave a hole: bytes [0, {entry.Begin}) of the data buffer belong to no tensor")
                    : new CheckpointException(file, entry.Name, $"data_offsets [{entry.Begin}, {entry.End}] leave a hole: bytes [{expected}, {entry.Begin}) of the data buffer, after tensor '{previous.Name}', belong to no tensor");
            }

            if (entry.End > bufferLength)
            {
                throw new CheckpointException(file, entry.Name, $"data_offsets [{entry.Begin}, {entry.End}] run past the end of the data buffer, which holds {bufferLength} bytes (truncated?)");
            }

            tensors.Add(new TensorEntry(entry.Name, entry.Dtype, entry.Shape, file, dataStart + entry.Begin, entry.End - entry.Begin));
            previous = entry;
        }

        var end = previous?.End ?? 0;
        if (end != bufferLength)
        {
            throw new CheckpointException(file, previous?.Name, $"the data buffer holds {bufferLength} bytes but the tensors' data ends at {end}: bytes [{end}, {bufferLength}) belong to no tensor");
        }

        return tensors;
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, string file, Dictionary<string, string> metadata)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new CheckpointException(file, null, $"__metadata__ is {Describe(reader)}, not an object of strings");
        }

        while (Next(ref reader, file, null) != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                throw new CheckpointException(file, null, $"__metadata__ '{key}' is {Describe(reader)}, not a string");
            }

            if (!metadata.TryAdd(key, reader.GetString()!))
            {
                throw new CheckpointException(file, null, $"__metadata__ has the key '{key}' twice");
            }
        }
    }

    private static RawEntry ReadEntry(ref Utf8JsonReader reader, string file, string name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new CheckpointException(file, name, $"the entry is {Describe(reader)}, not an object with dtype, shape and data_offsets");
        }

        SafetensorsDtype? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (Next(ref reader, file, name) != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            switch (key)
            {
                case "dtype" when dtype is null:
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new CheckpointException(file, name, $"dtype is {Describe(reader)}, not a string");
                    }

                    var text = reader.GetString();
                    dtype = SafetensorsDtypes.TryParse(text, out var parsed)
                        ? parsed
                        : throw new CheckpointException(file, name, $"dtype \"{text}\" is not one of {string.Join(", ", Enum.GetNames<SafetensorsDtype>())}");
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(ref reader, file, name, key);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(ref reader, file, name, key);
                    if (offsets.Length != 2)
                    {
                        throw new CheckpointException(file, name, $"data_offsets has {offsets.Length} numbers, not 2 ([begin, end])");
                    }

                    if (offsets[1] < offsets[0])
                    {
                        throw new CheckpointException(file, name, $"data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
                    }

                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw new CheckpointException(file, name, $"the entry has the key '{key}' twice");
                default:
                    throw new CheckpointException(file, name, $"the entry has the key '{key}'; an entry holds exactly dtype, shape and data_offsets");
            }
        }

        return dtype is null ? throw Missing("dtype")
            : shape is null ? throw Missing("shape")
            : offsets is null ? throw Missing("data_offsets")
            : new RawEntry(name, dtype.Value, shape, offsets[0], offsets[1]);

        CheckpointException Missing(string key) => new(file, name, $"the entry lacks '{key}'; an entry holds exactly dtype, shape and data_offsets");
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string file, string name, string key)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new CheckpointException(file, name, $"{key} is {Describe(reader)}, not a list of non-negative integers");
        }

        List<long> values = [];
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
            {
                throw new CheckpointException(file, name, $"{key} holds {Describe(reader)}, not a non-negative integer");
            }

            if (value < 0)
            {
                throw new CheckpointException(file, name, $"{key} holds the negative number {value}");
            }

            values.Add(value);
        }

        return [.. values];
    }

    /// <summary>Reads the next token of an object: a property name, or the object's end.</summary>
    private static JsonTokenType Next(ref Utf8JsonReader reader, string file, string? tensor)
    {
        if (!reader.Read())
        {
            throw new CheckpointException(file, tensor, "the header ends inside a JSON object");
        }

        return reader.TokenType;
    }

    private static string Describe(Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.None => "nothing",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        JsonTokenType.String => $"the string \"{reader.GetString()}\"",
        JsonTokenType.Number => $"the number {System.Text.Encoding.UTF8.GetString(reader.ValueSpan)}",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        _ => reader.TokenType.ToString(),
    };
}
