using TorchSharp;

namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>Moves raw bytes between memory and CPU torch tensors, a gigabyte at a time (a span holds at most 2 GiB).</summary>
internal static unsafe class TensorBytes
{
    private const long ChunkBytes = 1L << 30;

    /// <summary>A new CPU tensor of <paramref name="type"/> and <paramref name="shape"/> holding a copy of the bytes at <paramref name="source"/>.</summary>
    /// <param name="source">The first byte, laid out row-major and little-endian as torch holds it.</param>
    /// <param name="type">The torch element type the bytes are.</param>
    /// <param name="elementSize">The size of one element in bytes.</param>
    /// <param name="shape">The tensor's shape.</param>
    public static torch.Tensor Copy(byte* source, torch.ScalarType type, int elementSize, long[] shape)
    {
        var tensor = torch.empty(shape, type, torch.CPU);
        try
        {
            var length = tensor.numel() * elementSize;
            if (length <= ChunkBytes)
            {
                new ReadOnlySpan<byte>(source, (int)length).CopyTo(tensor.bytes);
                return tensor;
            }

            using var flat = tensor.view(-1);
            var chunkElements = ChunkBytes / elementSize;
            for (long start = 0; start < flat.shape[0]; start += chunkElements)
            {
                var count = Math.Min(chunkElements, flat.shape[0] - start);
                using var part = flat.narrow(0, start, count);
                new ReadOnlySpan<byte>(source + (start * elementSize), (int)(count * elementSize)).CopyTo(part.bytes);
            }

            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Writes the bytes of a contiguous CPU tensor to <paramref name="stream"/>.</summary>
    public static void Write(torch.Tensor tensor, int elementSize, Stream stream)
    {
        var length = tensor.numel() * elementSize;
        if (length <= ChunkBytes)
        {
            stream.Write(tensor.bytes);
            return;
        }

        using var flat = tensor.view(-1);
        var chunkElements = ChunkBytes / elementSize;
        for (long start = 0; start < flat.shape[0]; start += chunkElements)
        {
            using var part = flat.narrow(0, start, Math.Min(chunkElements, flat.shape[0] - start));
            stream.Write(part.bytes);
        }
    }
}
