using System.Diagnostics.CodeAnalysis;
using System.IO.MemoryMappedFiles;

namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>
/// One safetensors file, memory-mapped read-only. Opening it parses and checks the whole header; the tensors' bytes
/// are read from the mapping only when asked for, so opening a large file is cheap.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, TensorEntry> _byName;
    private byte* _pointer;

    private SafetensorsFile(string path, MemoryMappedFile mapping, MemoryMappedViewAccessor view, byte* pointer, SafetensorsHeader.Parsed header)
    {
        Path = path;
        _mapping = mapping;
        _view = view;
        _pointer = pointer;
        Metadata = header.Metadata;
        Tensors = header.Tensors;
        _byName = header.Tensors.ToDictionary(entry => entry.Name, StringComparer.Ordinal);
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when it has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors, in the order of their data in the file.</summary>
    public IReadOnlyList<TensorEntry> Tensors { get; }

    /// <summary>Opens, maps and checks a safetensors file.</summary>
    /// <param name="path">The file's path.</param>
    /// <exception cref="CheckpointException">The file is missing, unreadable, or breaks a rule of the format; the message names the file and, where one is at fault, the tensor.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        FileStream stream;
        try
        {
            stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception error) when (error is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointException(full, null, "the file does not exist", error);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(full, null, $"the file cannot be read: {error.Message}", error);
        }

        MemoryMappedFile? mapping = null;
        MemoryMappedViewAccessor? view = null;
        byte* pointer = null;
        try
        {
            var length = stream.Length;
            Span<byte> prefix = stackalloc byte[sizeof(ulong)];
            if (length >= sizeof(ulong))
            {
                stream.ReadExactly(prefix);
            }

            var headerLength = SafetensorsHeader.ReadLength(prefix, length, full);
            mapping = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            var header = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(pointer + sizeof(ulong), checked((int)headerLength)), length, full);
            return new SafetensorsFile(full, mapping, view, pointer, header);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            Release(mapping, view, pointer, stream);
            throw new CheckpointException(full, null, $"the file cannot be mapped: {error.Message}", error);
        }
        catch
        {
            Release(mapping, view, pointer, stream);
            throw;
        }
    }

    /// <summary>The tensor named <paramref name="name"/>, if this file holds one.</summary>
    public bool TryGetTensor(string name, [MaybeNullWhen(false)] out TensorEntry entry) => _byName.TryGetValue(name, out entry);

    /// <summary>The bytes of a tensor of this file: a view of the mapping, valid until the file is disposed.</summary>
    /// <exception cref="ArgumentException">The entry is not one of this file's.</exception>
    /// <exception cref="InvalidOperationException">The tensor is larger than a span can hold (2 GiB); read it in parts with <see cref="GetBytes(TensorEntry, long, int)"/>.</exception>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public ReadOnlySpan<byte> GetBytes(TensorEntry entry)
    {
        Check(entry);
        return entry.ByteLength <= int.MaxValue
            ? new ReadOnlySpan<byte>(_pointer + entry.DataOffset, (int)entry.ByteLength)
            : throw new InvalidOperationException($"{Path}: tensor '{entry.Name}' is {entry.ByteLength} bytes, more than one span holds; read it in parts");
    }

    /// <summary>Part of the bytes of a tensor of this file: <paramref name="length"/> bytes from <paramref name="start"/>, counted from the tensor's first byte.</summary>
    /// <exception cref="ArgumentException">The entry is not one of this file's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The part does not lie within the tensor.</exception>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public ReadOnlySpan<byte> GetBytes(TensorEntry entry, long start, int length)
    {
        Check(entry);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + length, entry.ByteLength, nameof(length));
        return new ReadOnlySpan<byte>(_pointer + entry.DataOffset + start, length);
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_pointer is null)
        {
            return;
        }

        _pointer = null;
        Release(_mapping, _view, acquired: true);
    }

    /// <summary>A pointer to the first byte of a tensor of this file, valid until the file is disposed.</summary>
    internal byte* Pointer(TensorEntry entry)
    {
        Check(entry);
        return _pointer + entry.DataOffset;
    }

    private void Check(TensorEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        if (!_byName.TryGetValue(entry.Name, out var own) || own.DataOffset != entry.DataOffset || own.ByteLength != entry.ByteLength)
        {
            throw new ArgumentException($"{entry.Name} is not a tensor of {Path}", nameof(entry));
        }
    }

    private static void Release(MemoryMappedFile? mapping, MemoryMappedViewAccessor? view, byte* pointer, FileStream stream)
    {
        Release(mapping, view, acquired: pointer is not null);
        stream.Dispose();
    }

    private static void Release(MemoryMappedFile? mapping, MemoryMappedViewAccessor? view, bool acquired)
    {
        if (view is not null)
        {
            if (acquired)
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            view.Dispose();
        }

        mapping?.Dispose();
    }
}
