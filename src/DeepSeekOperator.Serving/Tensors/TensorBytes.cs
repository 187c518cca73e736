using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using DeepSeekOperator.Serving.Protocol;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tensors;

/// <summary>
/// Converts tensors between <see cref="float"/> values and the raw little-endian bytes of the wire protocol
/// (float32 or bfloat16, DESIGN.md §6). Every length is checked before anything is written. Each conversion is
/// one pass: float32 on a little-endian host is a plain copy, bfloat16 is widened or rounded a vector at a time,
/// and tensors are read and filled through their storage, never through an intermediate array.
/// </summary>
public static class TensorBytes
{
    /// <summary>The bytes one element of <paramref name="dtype"/> takes on the wire.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dtype"/> is not a supported element type.</exception>
    public static int ElementSize(TensorDtype dtype) => dtype switch
    {
        TensorDtype.Float32 => sizeof(float),
        TensorDtype.Bfloat16 => sizeof(ushort),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, $"dtype {(int)dtype} is not one of TENSOR_DTYPE_FLOAT32, TENSOR_DTYPE_BFLOAT16"),
    };

    /// <summary>Whether <paramref name="dtype"/> is an element type these helpers convert.</summary>
    public static bool IsSupported(TensorDtype dtype) => dtype is TensorDtype.Float32 or TensorDtype.Bfloat16;

    /// <summary>Reads <paramref name="source"/> (little-endian <paramref name="dtype"/>) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> does not hold exactly one element per destination value.</exception>
    public static void ToSingles(ReadOnlySpan<byte> source, TensorDtype dtype, Span<float> destination)
    {
        CheckSource(source, dtype, destination.Length);
        if (dtype == TensorDtype.Bfloat16)
        {
            Widen(source, destination, add: false);
        }
        else if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
        }
        else
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * sizeof(float))..]);
            }
        }
    }

    /// <summary>Reads <paramref name="source"/> (little-endian <paramref name="dtype"/>) as a new array.</summary>
    /// <exception cref="ArgumentException">The length of <paramref name="source"/> is not a whole number of elements.</exception>
    public static float[] ToSingles(ReadOnlySpan<byte> source, TensorDtype dtype)
    {
        var size = ElementSize(dtype);
        if (source.Length % size != 0)
        {
            throw new ArgumentException($"source has {source.Length} bytes, not a whole number of {size}-byte {dtype} values", nameof(source));
        }

        var values = new float[source.Length / size];
        ToSingles(source, dtype, values);
        return values;
    }

    /// <summary>
    /// Adds the values of <paramref name="source"/> (little-endian <paramref name="dtype"/>) to
    /// <paramref name="destination"/>, element by element: a partial result summed straight from the wire bytes.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> does not hold exactly one element per destination value.</exception>
    public static void AddSingles(ReadOnlySpan<byte> source, TensorDtype dtype, Span<float> destination)
    {
        CheckSource(source, dtype, destination.Length);
        if (dtype == TensorDtype.Bfloat16)
        {
            Widen(source, destination, add: true);
            return;
        }

        var i = 0;
        if (BitConverter.IsLittleEndian)
        {
            var values = MemoryMarshal.Cast<byte, float>(source);
            for (; i <= destination.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(destination[i..]) + new Vector<float>(values[i..])).CopyTo(destination[i..]);
            }
        }

        for (; i < destination.Length; i++)
        {
            destination[i] += BinaryPrimitives.ReadSingleLittleEndian(source[(i * sizeof(float))..]);
        }
    }

    /// <summary>Writes <paramref name="source"/> as little-endian <paramref name="dtype"/> into <paramref name="destination"/>; bfloat16 rounds to nearest even.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold exactly one element per source value.</exception>
    public static void FromSingles(ReadOnlySpan<float> source, TensorDtype dtype, Span<byte> destination)
    {
        var size = ElementSize(dtype);
        if ((long)source.Length * size != destination.Length)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes but {source.Length} {dtype} values take {(long)source.Length * size}", nameof(destination));
        }

        if (dtype == TensorDtype.Bfloat16)
        {
            Narrow(source, destination);
        }
        else if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(source).CopyTo(destination);
        }
        else
        {
            for (var i = 0; i < source.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(destination[(i * sizeof(float))..], source[i]);
            }
        }
    }

    /// <summary>Writes <paramref name="source"/> as little-endian <paramref name="dtype"/> into a new array.</summary>
    public static byte[] FromSingles(ReadOnlySpan<float> source, TensorDtype dtype)
    {
        var bytes = new byte[(long)source.Length * ElementSize(dtype)];
        FromSingles(source, dtype, bytes);
        return bytes;
    }

    /// <summary>
    /// A new float32 tensor of shape [<paramref name="rows"/>, <paramref name="columns"/>] on
    /// <paramref name="device"/> holding <paramref name="source"/> (little-endian <paramref name="dtype"/>): the
    /// bytes are converted once, straight into the storage of a CPU tensor, which is then moved to a device other
    /// than the CPU.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> or <paramref name="columns"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> does not hold exactly one element per value of the shape.</exception>
    public static Tensor ToTensor(ReadOnlySpan<byte> source, TensorDtype dtype, long rows, long columns, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentNullException.ThrowIfNull(device);
        var size = ElementSize(dtype);
        if (rows * columns * size != source.Length)
        {
            throw new ArgumentException($"source has {source.Length} bytes but [{rows}, {columns}] {dtype} values take {rows * columns * size}", nameof(source));
        }

        var staged = empty([rows, columns], ScalarType.Float32, CPU);
        ToSingles(source, dtype, Storage(staged));

        if (device.type == DeviceType.CPU)
        {
            return staged;
        }

        using (staged)
        {
            return staged.to(device);
        }
    }

    /// <summary>
    /// The values of <paramref name="source"/> in row-major order as little-endian <paramref name="dtype"/>, in a
    /// new array written once from the storage of a CPU float32 tensor (a tensor elsewhere, of another element
    /// type or not contiguous is first made one by torch); bfloat16 rounds to nearest even.
    /// </summary>
    public static byte[] FromTensor(Tensor source, TensorDtype dtype)
    {
        ArgumentNullException.ThrowIfNull(source);
        var size = ElementSize(dtype);
        using var scope = NewDisposeScope();
        var values = Storage(Singles(source));
        var bytes = new byte[(long)values.Length * size];
        FromSingles(values, dtype, bytes);
        return bytes;
    }

    /// <summary>
    /// <paramref name="source"/> as a contiguous float32 tensor on the CPU, whose <see cref="Storage"/> can be read:
    /// another handle to the same tensor when it is one already, else a converted copy. The caller disposes it
    /// (it belongs to the caller's dispose scope, if any).
    /// </summary>
    public static Tensor Singles(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var scope = NewDisposeScope();
        return source.detach().to(ScalarType.Float32).cpu().contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The storage of a contiguous float32 CPU tensor as its values in row-major order, read and written in
    /// place: valid only while <paramref name="source"/> is alive and not resized.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not float32, not on the CPU, or not contiguous.</exception>
    public static Span<float> Storage(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.dtype != ScalarType.Float32 || source.device_type != DeviceType.CPU || !source.is_contiguous())
        {
            throw new ArgumentException($"source is a {(source.is_contiguous() ? "contiguous" : "non-contiguous")} {source.dtype} tensor on {source.device}; a contiguous Float32 tensor on the CPU is expected", nameof(source));
        }

        return source.numel() == 0 ? [] : MemoryMarshal.Cast<byte, float>(source.bytes);
    }

    private static void CheckSource(ReadOnlySpan<byte> source, TensorDtype dtype, int count)
    {
        var size = ElementSize(dtype);
        if ((long)count * size != source.Length)
        {
            throw new ArgumentException($"source has {source.Length} bytes but {count} {dtype} values take {(long)count * size}", nameof(source));
        }
    }

    /// <summary>bfloat16 bytes to float32 (or added to it): each value's 16 bits become the upper half of a float32, exactly.</summary>
    private static void Widen(ReadOnlySpan<byte> source, Span<float> destination, bool add)
    {
        var i = 0;
        if (BitConverter.IsLittleEndian)
        {
            var bits = MemoryMarshal.Cast<byte, ushort>(source);
            var width = Vector<uint>.Count;
            for (; i <= destination.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(new Vector<ushort>(bits[i..]), out var low, out var high);
                var lower = Vector.AsVectorSingle(Vector.ShiftLeft(low, 16));
                var upper = Vector.AsVectorSingle(Vector.ShiftLeft(high, 16));
                if (add)
                {
                    lower += new Vector<float>(destination[i..]);
                    upper += new Vector<float>(destination[(i + width)..]);
                }

                lower.CopyTo(destination[i..]);
                upper.CopyTo(destination[(i + width)..]);
            }
        }

        for (; i < destination.Length; i++)
        {
            var value = BFloat16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(i * sizeof(ushort))..]));
            destination[i] = add ? destination[i] + value : value;
        }
    }

    /// <summary>float32 to bfloat16 bytes, rounding as <see cref="BFloat16.FromSingle"/> does.</summary>
    private static void Narrow(ReadOnlySpan<float> source, Span<byte> destination)
    {
        var i = 0;
        if (BitConverter.IsLittleEndian)
        {
            var bits = MemoryMarshal.Cast<byte, ushort>(destination);
            var width = Vector<float>.Count;
            for (; i <= source.Length - (2 * width); i += 2 * width)
            {
                Vector.Narrow(Round(new Vector<float>(source[i..])), Round(new Vector<float>(source[(i + width)..]))).CopyTo(bits[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(i * sizeof(ushort))..], BFloat16.FromSingle(source[i]));
        }
    }

    /// <summary><see cref="BFloat16.FromSingle"/> of every lane, in the low 16 bits of each.</summary>
    private static Vector<uint> Round(Vector<float> values)
    {
        var bits = Vector.AsVectorUInt32(values);
        var upper = Vector.ShiftRightLogical(bits, 16);
        var rounded = Vector.ShiftRightLogical(bits + new Vector<uint>(0x7FFF) + (upper & Vector<uint>.One), 16);
        var quietNaN = upper | new Vector<uint>(0x0040);
        var isNumber = Vector.AsVectorUInt32(Vector.Equals(values, values));
        return Vector.ConditionalSelect(isNumber, rounded, quietNaN);
    }
}
