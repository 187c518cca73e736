using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;

namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>
/// Writes safetensors files and Hugging Face checkpoint directories. Tensors are laid out by element size, largest
/// first, then by name, so every tensor's data is aligned to its element size and the same tensors always give the
/// same bytes; the header is padded with spaces to a multiple of 8 bytes. Each file is written beside its final name
/// and moved into place when complete.
/// </summary>
public static class SafetensorsWriter
{
    private static readonly JsonWriterOptions HeaderJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions IndexJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    /// <summary>A tensor on its way to a file: what its header entry says, and how to write its bytes.</summary>
    private sealed record Pending(string Name, SafetensorsDtype Dtype, long[] Shape, long ByteLength, Action<Stream> WriteData);

    /// <summary>Writes torch tensors, each in its own element type, to one safetensors file.</summary>
    /// <param name="path">The file to write; it is replaced if it exists.</param>
    /// <param name="tensors">The tensors by name, on any device, contiguous or not (they are written row-major). Float32, BFloat16 and Float16 are what checkpoints hold; Float64, the signed integers, Byte and Bool are written too.</param>
    /// <param name="metadata">The header's <c>__metadata__</c>, or null for none.</param>
    /// <exception cref="ArgumentException">A name repeats or is <c>__metadata__</c>, or a tensor's element type has no safetensors name.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteFile(path, Prepare(tensors), metadata);

    /// <summary>Writes tensors given as raw bytes to one safetensors file.</summary>
    /// <param name="path">The file to write; it is replaced if it exists.</param>
    /// <param name="tensors">The tensors.</param>
    /// <param name="metadata">The header's <c>__metadata__</c>, or null for none.</param>
    /// <exception cref="ArgumentException">A name repeats or is <c>__metadata__</c>, a dimension is negative, or a tensor's bytes are not as many as its dtype and shape need.</exception>
    public static void Write(string path, IEnumerable<RawTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteFile(path, Prepare(tensors), metadata);

    /// <summary>
    /// Writes torch tensors as a Hugging Face checkpoint directory: <c>model.safetensors</c> when <paramref name="shards"/>
    /// is 1, else <c>model-0000i-of-0000K.safetensors</c> holding runs of the tensors in name order, split so the shards'
    /// sizes are as even as the tensors allow, and <c>model.safetensors.index.json</c> with <c>total_size</c> and the
    /// <c>weight_map</c>. A <c>model.safetensors</c> or index left in the directory by the other layout is removed, so
    /// the directory opens as what was written.
    /// </summary>
    /// <param name="directory">The directory; created if missing.</param>
    /// <param name="tensors">The tensors by name (see <see cref="Write(string, IEnumerable{KeyValuePair{string, torch.Tensor}}, IReadOnlyDictionary{string, string}?)"/>).</param>
    /// <param name="shards">How many files to split the tensors into: at least 1 and at most the number of tensors.</param>
    /// <param name="metadata">The <c>__metadata__</c> of every file, or null for none.</param>
    /// <exception cref="ArgumentException">A name repeats or is <c>__metadata__</c>, a tensor's element type has no safetensors name, or <paramref name="shards"/> is out of range.</exception>
    public static void WriteCheckpoint(string directory, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors, int shards, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteDirectory(directory, Prepare(tensors), shards, metadata);

    /// <summary>Writes tensors given as raw bytes as a Hugging Face checkpoint directory, as <see cref="WriteCheckpoint(string, IEnumerable{KeyValuePair{string, torch.Tensor}}, int, IReadOnlyDictionary{string, string}?)"/> does.</summary>
    /// <param name="directory">The directory; created if missing.</param>
    /// <param name="tensors">The tensors.</param>
    /// <param name="shards">How many files to split the tensors into: at least 1 and at most the number of tensors.</param>
    /// <param name="metadata">The <c>__metadata__</c> of every file, or null for none.</param>
    /// <exception cref="ArgumentException">A name repeats or is <c>__metadata__</c>, a dimension is negative, a tensor's bytes are not as many as its dtype and shape need, or <paramref name="shards"/> is out of range.</exception>
    public static void WriteCheckpoint(string directory, IEnumerable<RawTensor> tensors, int shards, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteDirectory(directory, Prepare(tensors), shards, metadata);

    private static List<Pending> Prepare(IEnumerable<KeyValuePair<string, torch.Tensor>> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        List<Pending> pending = [];
        foreach (var (name, tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor);
            var dtype = SafetensorsDtypes.FromTorch(tensor.dtype)
                ?? throw new ArgumentException($"tensor '{name}' is {tensor.dtype}, which safetensors has no dtype for", nameof(tensors));
            var size = dtype.ElementSize();
            pending.Add(new Pending(name, dtype, tensor.shape, tensor.numel() * size, stream =>
            {
                var cpu = tensor.device_type == DeviceType.CPU ? null : tensor.cpu();
                var source = cpu ?? tensor;
                var contiguous = source.is_contiguous() ? null : source.contiguous();
                try
                {
                    TensorBytes.Write(contiguous ?? source, size, stream);
                }
                finally
                {
                    contiguous?.Dispose();
                    cpu?.Dispose();
                }
            }));
        }

        return Checked(pending);
    }

    private static List<Pending> Prepare(IEnumerable<RawTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        List<Pending> pending = [];
        foreach (var tensor in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor);
            if (tensor.Shape.Any(dimension => dimension < 0))
            {
                throw new ArgumentException($"tensor '{tensor.Name}' has a negative dimension in {ShapeText.Format(tensor.Shape)}", nameof(tensors));
            }

            var needed = checked(ShapeText.ElementCount(tensor.Shape) * tensor.Dtype.ElementSize());
            if (tensor.Data.Length != needed)
            {
                throw new ArgumentException($"tensor '{tensor.Name}' has {tensor.Data.Length} bytes but {tensor.Dtype} {ShapeText.Format(tensor.Shape)} needs {needed}", nameof(tensors));
            }

            var data = tensor.Data;
            pending.Add(new Pending(tensor.Name, tensor.Dtype, [.. tensor.Shape], needed, stream => stream.Write(data.Span)));
        }

        return Checked(pending);
    }

    private static List<Pending> Checked(List<Pending> tensors)
    {
        HashSet<string> names = new(StringComparer.Ordinal);
        foreach (var tensor in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor.Name, nameof(tensor.Name));
            if (tensor.Name == "__metadata__")
            {
                throw new ArgumentException("'__metadata__' is the header's metadata key, not a tensor name", nameof(tensors));
            }

            if (!names.Add(tensor.Name))
            {
                throw new ArgumentException($"tensor '{tensor.Name}' is given twice", nameof(tensors));
            }
        }

        return tensors;
    }

    private static void WriteDirectory(string directory, List<Pending> tensors, int shards, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        if (shards > 1 && shards > tensors.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(shards), shards, $"{tensors.Count} tensors cannot fill {shards} shards");
        }

        Directory.CreateDirectory(directory);
        var single = Path.Combine(directory, SafetensorsCheckpoint.SingleFileName);
        var index = Path.Combine(directory, SafetensorsCheckpoint.IndexFileName);
        if (shards == 1)
        {
            WriteFile(single, tensors, metadata);
            File.Delete(index);
            return;
        }

        tensors.Sort((left, right) => string.CompareOrdinal(left.Name, right.Name));
        SortedDictionary<string, string> weightMap = new(StringComparer.Ordinal);
        var groups = Partition([.. tensors.Select(tensor => tensor.ByteLength)], shards);
        for (var shard = 0; shard < shards; shard++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"model-{shard + 1:D5}-of-{shards:D5}.safetensors");
            var (start, end) = groups[shard];
            var members = tensors[start..end];
            WriteFile(Path.Combine(directory, name), members, metadata);
            foreach (var tensor in members)
            {
                weightMap.Add(tensor.Name, name);
            }
        }

        WriteAtomically(index, stream =>
        {
            using var json = new Utf8JsonWriter(stream, IndexJson);
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", tensors.Sum(tensor => tensor.ByteLength));
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (tensor, file) in weightMap)
            {
                json.WriteString(tensor, file);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        });
        File.Delete(single);
    }

    /// <summary>
    /// Splits items, kept in order, into exactly <paramref name="parts"/> non-empty runs whose largest total is as
    /// small as it can be: the smallest capacity that a greedy fill fits into at most that many runs, then the
    /// runs with the most bytes split until there are enough.
    /// </summary>
    internal static List<(int Start, int End)> Partition(IReadOnlyList<long> sizes, int parts)
    {
        long low = sizes.Count == 0 ? 0 : sizes.Max();
        var high = Math.Max(low, sizes.Sum());
        while (low < high)
        {
            var capacity = low + ((high - low) / 2);
            if (Fill(sizes, capacity).Count <= parts)
            {
                high = capacity;
            }
            else
            {
                low = capacity + 1;
            }
        }

        var runs = Fill(sizes, low);
        while (runs.Count < parts)
        {
            var widest = runs.Select((run, at) => (run, at)).Where(item => item.run.End - item.run.Start > 1)
                .MaxBy(item => Bytes(sizes, item.run));
            var (start, end) = widest.run;
            var cut = end - 1;
            long half = 0;
            for (var i = start; i < end - 1; i++)
            {
                half += sizes[i];
                if (half * 2 >= Bytes(sizes, widest.run))
                {
                    cut = i + 1;
                    break;
                }
            }

            runs[widest.at] = (start, cut);
            runs.Insert(widest.at + 1, (cut, end));
        }

        return runs;
    }

    private static long Bytes(IReadOnlyList<long> sizes, (int Start, int End) run)
    {
        long total = 0;
        for (var i = run.Start; i < run.End; i++)
        {
            total += sizes[i];
        }

        return total;
    }

    private static List<(int Start, int End)> Fill(IReadOnlyList<long> sizes, long capacity)
    {
        List<(int Start, int End)> runs = [];
        var start = 0;
        long filled = 0;
        for (var i = 0; i < sizes.Count; i++)
        {
            if (i > start && filled + sizes[i] > capacity)
            {
                runs.Add((start, i));
                start = i;
                filled = 0;
            }

            filled += sizes[i];
        }

        runs.Add((start, sizes.Count));
        return runs;
    }

    private static void WriteFile(string path, List<Pending> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var ordered = tensors.OrderByDescending(tensor => tensor.Dtype.ElementSize()).ThenBy(tensor => tensor.Name, StringComparer.Ordinal).ToList();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header, HeaderJson))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var tensor in ordered)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.Dtype.ToString());
                json.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    json.WriteNumberValue(dimension);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.ByteLength;
            }

            json.WriteEndObject();
        }

        while (header.Length % 8 != 0)
        {
            header.WriteByte((byte)' ');
        }

        WriteAtomically(path, stream =>
        {
            Span<byte> length = stackalloc byte[sizeof(ulong)];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            header.WriteTo(stream);
            foreach (var tensor in ordered)
            {
                tensor.WriteData(stream);
            }
        });
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var partial = $"{full}.partial";
        try
        {
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(stream);
            }

            File.Move(partial, full, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }
}
