using System.Buffers.Binary;
using System.Text.Json;

namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>Where one tensor lies in a safetensors file: its dtype, shape and byte range after the header.</summary>
internal sealed record RefTensorInfo(string Name, string Dtype, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements: the product of the shape (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (product, dimension) => product * dimension);
}

/// <summary>
/// A safetensors file read by hand: 8-byte little-endian header length, a JSON header
/// <c>{name: {dtype, shape, data_offsets}}</c>, then the data. The header is checked when the file is opened, so a
/// truncated file or a tensor whose byte range does not fit its dtype and shape is rejected with the tensor's name.
/// </summary>
internal sealed class RefSafetensors
{
    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8,
        ["F32"] = 4,
        ["F16"] = 2,
        ["BF16"] = 2,
        ["F8_E4M3"] = 1,
        ["F8_E5M2"] = 1,
        ["I64"] = 8,
        ["I32"] = 4,
        ["I16"] = 2,
        ["I8"] = 1,
        ["U64"] = 8,
        ["U32"] = 4,
        ["U16"] = 2,
        ["U8"] = 1,
        ["BOOL"] = 1,
    };

    private readonly long dataStart;

    private RefSafetensors(string path, long dataStart, Dictionary<string, RefTensorInfo> tensors)
    {
        Path = path;
        this.dataStart = dataStart;
        Tensors = tensors;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Every tensor the header lists, by name.</summary>
    public IReadOnlyDictionary<string, RefTensorInfo> Tensors { get; }

    /// <summary>Reads and checks the header of <paramref name="path"/>.</summary>
    public static RefSafetensors Open(string path)
    {
        using var stream = File.OpenRead(path);
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new InvalidDataException($"{path}: {fileLength} bytes is too short for a safetensors header length");
        }

        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new InvalidDataException($"{path}: header length {headerLength} exceeds the {fileLength - 8} bytes after it (truncated file?)");
        }

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var dataStart = 8 + (long)headerLength;
        var dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{path}: the header is not valid JSON: {error.Message}", error);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: the header is {document.RootElement.ValueKind}, expected a JSON object");
            }

            var tensors = new Dictionary<string, RefTensorInfo>(StringComparer.Ordinal);
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    continue;
                }

                var info = ParseEntry(path, entry);
                var size = info.ElementCount * ElementSizes[info.Dtype];
                if (info.End - info.Begin != size)
                {
                    throw new InvalidDataException(
                        $"{path}: tensor {info.Name}: data_offsets [{info.Begin}, {info.End}] hold {info.End - info.Begin} bytes, but {info.Dtype} [{string.Join(", ", info.Shape)}] needs {size}");
                }

                if (info.End > dataLength)
                {
                    throw new InvalidDataException(
                        $"{path}: tensor {info.Name}: data ends at byte {info.End} of the data section, which has only {dataLength} bytes (truncated file?)");
                }

                tensors.Add(info.Name, info);
            }

            return new RefSafetensors(path, dataStart, tensors);
        }
    }

    /// <summary>Reads tensor <paramref name="name"/> (F64, F32, F16 or BF16) as doubles, flat and row-major.</summary>
    public double[] Read(string name)
    {
        if (!Tensors.TryGetValue(name, out var info))
        {
            throw new KeyNotFoundException($"{Path}: no tensor named {name}");
        }

        var bytes = new byte[info.End - info.Begin];
        using (var handle = File.OpenHandle(Path))
        {
            var read = 0;
            while (read < bytes.Length)
            {
                var n = RandomAccess.Read(handle, bytes.AsSpan(read), dataStart + info.Begin + read);
                if (n == 0)
                {
                    throw new InvalidDataException($"{Path}: tensor {name}: file ended after {read} of {bytes.Length} bytes");
                }

                read += n;
            }
        }

        var values = new double[info.ElementCount];
        switch (info.Dtype)
        {
            case "F64":
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
                }

                break;
            case "F32":
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
                }

                break;
            case "F16":
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = (double)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan(i * 2));
                }

                break;
            case "BF16":
                // A bfloat16 is the upper half of the float32 with the same bits.
                for (var i = 0; i < values.Length; i++)
                {
                    var upper = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2));
                    values[i] = BitConverter.Int32BitsToSingle(upper << 16);
                }

                break;
            default:
                throw new NotSupportedException($"{Path}: tensor {name} has dtype {info.Dtype}; the reference reads F64, F32, F16 and BF16");
        }

        return values;
    }

    private static RefTensorInfo ParseEntry(string path, JsonProperty entry)
    {
        var name = entry.Name;
        var value = entry.Value;
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: tensor {name}: header entry is {value.ValueKind}, expected an object");
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new InvalidDataException($"{path}: tensor {name}: missing string \"dtype\"");
        }

        var dtype = dtypeElement.GetString()!;
        if (!ElementSizes.ContainsKey(dtype))
        {
            throw new InvalidDataException($"{path}: tensor {name}: unknown dtype \"{dtype}\"");
        }

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{path}: tensor {name}: missing array \"shape\"");
        }

        var shape = shapeElement.EnumerateArray()
            .Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out var n) && n >= 0
                ? n
                : throw new InvalidDataException($"{path}: tensor {name}: shape entry {d.GetRawText()} is not a non-negative integer"))
            .ToArray();

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !Offset(offsets[0], out var begin) || !Offset(offsets[1], out var end) || begin < 0 || end < begin)
        {
            throw new InvalidDataException($"{path}: tensor {name}: \"data_offsets\" must be [begin, end] with 0 <= begin <= end");
        }

        return new RefTensorInfo(name, dtype, shape, begin, end);
    }

    private static bool Offset(JsonElement element, out long offset)
    {
        offset = 0;
        return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out offset);
    }
}
