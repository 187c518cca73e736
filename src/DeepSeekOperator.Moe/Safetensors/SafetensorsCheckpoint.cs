using TorchSharp;

namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>
/// A model's weights: a directory holding <c>model.safetensors</c>, or <c>model.safetensors.index.json</c> and the
/// shards it lists, or a single <c>.safetensors</c> file. Every file is memory-mapped and checked when the checkpoint
/// opens, and the index is checked against the shards both ways; tensors are read only when loaded.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    /// <summary>The file name of an unsharded Hugging Face checkpoint.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The file name of the index of a sharded Hugging Face checkpoint.</summary>
    public const string IndexFileName = CheckpointIndex.FileName;

    /// <summary>The suffix that names a float8 weight's block scales: <c>x.weight</c> → <c>x.weight_scale_inv</c>.</summary>
    public const string ScaleSuffix = "_scale_inv";

    private readonly IReadOnlyList<SafetensorsFile> _files;
    private readonly Dictionary<string, TensorEntry> _byName;
    private readonly Dictionary<string, SafetensorsFile> _byPath;
    private readonly List<TensorEntry> _ordered;

    private SafetensorsCheckpoint(string directory, string source, IReadOnlyList<SafetensorsFile> files)
    {
        Directory = directory;
        Source = source;
        _files = files;
        _byPath = files.ToDictionary(file => file.Path, StringComparer.Ordinal);
        _ordered = [.. files.SelectMany(file => file.Tensors)];
        _byName = new Dictionary<string, TensorEntry>(_ordered.Count, StringComparer.Ordinal);
        foreach (var entry in _ordered)
        {
            if (!_byName.TryAdd(entry.Name, entry))
            {
                throw new CheckpointException(entry.File, entry.Name, $"the tensor is also in {_byName[entry.Name].File}");
            }
        }
    }

    /// <summary>The directory the checkpoint's files are in.</summary>
    public string Directory { get; }

    /// <summary>The file the checkpoint was opened from: the single safetensors file, or the index.</summary>
    public string Source { get; }

    /// <summary>The full paths of the safetensors files, in the order their tensors are read.</summary>
    public IReadOnlyList<string> Files => [.. _files.Select(file => file.Path)];

    /// <summary>Every tensor of the checkpoint, file by file in data order, scale tensors included.</summary>
    public IReadOnlyCollection<TensorEntry> Tensors => _ordered;

    /// <summary>Opens a checkpoint.</summary>
    /// <param name="path">A directory holding <c>model.safetensors</c> or <c>model.safetensors.index.json</c> (the single file wins when both are there), or the path of a <c>.safetensors</c> file or of an index.</param>
    /// <exception cref="CheckpointException">Neither file is there, a file breaks the format, an index names a missing shard, or the index and a shard disagree about a tensor.</exception>
    public static SafetensorsCheckpoint Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = Path.GetFullPath(path);
        if (System.IO.Directory.Exists(full))
        {
            var single = Path.Combine(full, SingleFileName);
            var index = Path.Combine(full, IndexFileName);
            return File.Exists(single) ? OpenSingle(single)
                : File.Exists(index) ? OpenSharded(index)
                : throw new CheckpointException(full, null, $"the directory holds neither {SingleFileName} nor {IndexFileName}");
        }

        return !File.Exists(full) ? throw new CheckpointException(full, null, "no such file or directory")
            : full.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenSharded(full)
            : OpenSingle(full);
    }

    /// <summary>Whether the checkpoint has a tensor of that name.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The tensor of that name.</summary>
    /// <exception cref="CheckpointException">The checkpoint has no tensor of that name.</exception>
    public TensorEntry Get(string name) => _byName.TryGetValue(name, out var entry)
        ? entry
        : throw new CheckpointException(Source, name, $"the checkpoint in {Directory} has no tensor '{name}'");

    /// <summary>
    /// Loads one tensor as a torch tensor of <paramref name="dtype"/> on <paramref name="device"/>. F32, F16, BF16 and
    /// F64 convert (BF16 and F16 to Float32 exactly); an 8-bit float weight is dequantised with its companion
    /// <c>&lt;name&gt;_scale_inv</c> (F32, one scale per 128×128 block).
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint has no such tensor, an 8-bit weight lacks its scales or they do not fit it, or the dtype has no torch equivalent.</exception>
    public torch.Tensor Load(string name, torch.ScalarType dtype, torch.Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var entry = Get(name);
        return Load(entry, ScaleOf(entry), dtype, device);
    }

    /// <summary>
    /// Loads every tensor whose name satisfies <paramref name="predicate"/>, file by file in data order so the reads are
    /// sequential. The scale tensors of 8-bit weights are read with their weight and are neither offered to the
    /// predicate nor returned. Progress is reported once before the first tensor and after each.
    /// </summary>
    /// <returns>The tensors by name, in the order they were read. The caller owns (and disposes) them.</returns>
    /// <exception cref="CheckpointException">A selected 8-bit weight lacks its scales or they do not fit it, or a selected tensor's dtype has no torch equivalent; checked before anything is read.</exception>
    /// <exception cref="OperationCanceledException">The load was cancelled; the tensors loaded so far are disposed.</exception>
    public IReadOnlyDictionary<string, torch.Tensor> Load(Func<string, bool> predicate, torch.ScalarType dtype, torch.Device device, IProgress<LoadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(device);
        List<(TensorEntry Entry, TensorEntry? Scale)> selected = [];
        foreach (var entry in _ordered)
        {
            if (!IsScale(entry) && predicate(entry.Name))
            {
                selected.Add((entry, ScaleOf(entry)));
            }
        }

        var bytesTotal = selected.Sum(item => item.Entry.ByteLength + (item.Scale?.ByteLength ?? 0));
        long bytesLoaded = 0;
        Dictionary<string, torch.Tensor> loaded = new(selected.Count, StringComparer.Ordinal);
        try
        {
            progress?.Report(new LoadProgress(0, bytesTotal, 0, selected.Count, null));
            foreach (var (entry, scale) in selected)
            {
                cancellationToken.ThrowIfCancellationRequested();
                loaded.Add(entry.Name, Load(entry, scale, dtype, device));
                bytesLoaded += entry.ByteLength + (scale?.ByteLength ?? 0);
                progress?.Report(new LoadProgress(bytesLoaded, bytesTotal, loaded.Count, selected.Count, entry.Name));
            }

            return loaded;
        }
        catch
        {
            foreach (var tensor in loaded.Values)
            {
                tensor.Dispose();
            }

            throw;
        }
    }

    /// <summary>Unmaps every file.</summary>
    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }

    private static SafetensorsCheckpoint OpenSingle(string path)
    {
        var file = SafetensorsFile.Open(path);
        try
        {
            return new SafetensorsCheckpoint(Path.GetDirectoryName(path)!, path, [file]);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static SafetensorsCheckpoint OpenSharded(string indexPath)
    {
        var directory = Path.GetDirectoryName(indexPath)!;
        var weightMap = CheckpointIndex.Read(indexPath);
        var shardNames = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var shard in shardNames)
        {
            if (!File.Exists(Path.Combine(directory, shard)))
            {
                var tensor = weightMap.First(pair => pair.Value == shard).Key;
                throw new CheckpointException(indexPath, tensor, $"weight_map maps the tensor to {shard}, which is not in {directory}");
            }
        }

        List<SafetensorsFile> files = [];
        try
        {
            foreach (var shard in shardNames)
            {
                var file = SafetensorsFile.Open(Path.Combine(directory, shard));
                files.Add(file);
                foreach (var entry in file.Tensors)
                {
                    if (!weightMap.TryGetValue(entry.Name, out var mapped))
                    {
                        throw new CheckpointException(file.Path, entry.Name, $"the shard holds the tensor but {IndexFileName}'s weight_map does not list it");
                    }

                    if (mapped != shard)
                    {
                        throw new CheckpointException(file.Path, entry.Name, $"the shard holds the tensor but {IndexFileName}'s weight_map maps it to {mapped}");
                    }
                }
            }

            foreach (var (name, shard) in weightMap)
            {
                var file = files[shardNames.BinarySearch(shard, StringComparer.Ordinal)];
                if (!file.TryGetTensor(name, out _))
                {
                    throw new CheckpointException(indexPath, name, $"weight_map maps the tensor to {shard}, which does not hold it");
                }
            }

            return new SafetensorsCheckpoint(directory, indexPath, files);
        }
        catch
        {
            foreach (var file in files)
            {
                file.Dispose();
            }

            throw;
        }
    }

    /// <summary>Whether the entry is the block scales of an 8-bit weight of this checkpoint, read with that weight.</summary>
    private bool IsScale(TensorEntry entry) =>
        entry.Name.EndsWith(ScaleSuffix, StringComparison.Ordinal)
        && _byName.TryGetValue(entry.Name[..^ScaleSuffix.Length], out var weight)
        && weight.Dtype.IsFloat8();

    /// <summary>The checked scale tensor of an 8-bit weight; null for any other tensor.</summary>
    private TensorEntry? ScaleOf(TensorEntry entry)
    {
        if (!entry.Dtype.IsFloat8())
        {
            return entry.Dtype.StorageType() is null
                ? throw new CheckpointException(entry.File, entry.Name, $"{entry.Dtype} has no torch element type to load it as")
                : null;
        }

        var scaleName = entry.Name + ScaleSuffix;
        if (entry.Shape.Count != 2)
        {
            throw new CheckpointException(entry.File, entry.Name, $"the tensor is {entry.Dtype} {ShapeText.Format(entry.Shape)}; only 2-D {entry.Dtype} weights can be dequantised with block scales ('{scaleName}')");
        }

        if (!_byName.TryGetValue(scaleName, out var scale))
        {
            throw new CheckpointException(entry.File, entry.Name, $"the tensor is {entry.Dtype} but the checkpoint has no scale tensor '{scaleName}' to dequantise it with");
        }

        var expected = Float8.ScaleShape(entry.Shape[0], entry.Shape[1]);
        return scale.Dtype != SafetensorsDtype.F32 || !scale.Shape.SequenceEqual(expected)
            ? throw new CheckpointException(scale.File, scale.Name, $"the scales of {entry.Dtype} {ShapeText.Format(entry.Shape)} weight '{entry.Name}' must be F32 {ShapeText.Format(expected)} (one per {Float8.BlockSize}×{Float8.BlockSize} block), not {scale.Dtype} {ShapeText.Format(scale.Shape)}")
            : scale;
    }

    private unsafe torch.Tensor Load(TensorEntry entry, TensorEntry? scale, torch.ScalarType dtype, torch.Device device)
    {
        using var scope = torch.NewDisposeScope();
        var raw = Read(entry);
        if (scale is null)
        {
            return raw.to(dtype, device).MoveToOuterDisposeScope();
        }

        var scales = Read(scale).to(device);
        return Float8.Dequantize(raw.to(device), scales, entry.Dtype, dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The tensor's bytes, copied into a CPU tensor of the element type they are stored as (bytes for the 8-bit floats).</summary>
    private unsafe torch.Tensor Read(TensorEntry entry) =>
        TensorBytes.Copy(_byPath[entry.File].Pointer(entry), entry.Dtype.StorageType()!.Value, entry.Dtype.ElementSize(), [.. entry.Shape]);
}
