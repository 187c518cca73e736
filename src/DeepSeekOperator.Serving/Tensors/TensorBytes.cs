using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DeepSeekOperator.Serving.Protocol;

namespace DeepSeekOperator.Serving.Tensors;

/// <summary>
/// Converts tensors between <see cref="float"/> values and the raw little-endian bytes of the wire protocol
/// (float32 or bfloat16, DESIGN.md §6). Every length is checked before anything is written.
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
        var size = ElementSize(dtype);
        if ((long)destination.Length * size != source.Length)
        {
            throw new ArgumentException($"source has {source.Length} bytes but {destination.Length} {dtype} values take {(long)destination.Length * size}", nameof(source));
        }

        if (dtype == TensorDtype.Float32)
        {
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                return;
            }

            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * sizeof(float))..]);
            }

            return;
        }

        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = BFloat16.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(i * sizeof(ushort))..]));
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

    /// <summary>Writes <paramref name="source"/> as little-endian <paramref name="dtype"/> into <paramref name="destination"/>; bfloat16 rounds to nearest even.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> does not hold exactly one element per source value.</exception>
    public static void FromSingles(ReadOnlySpan<float> source, TensorDtype dtype, Span<byte> destination)
    {
        var size = ElementSize(dtype);
        if ((long)source.Length * size != destination.Length)
        {
            throw new ArgumentException($"destination has {destination.Length} bytes but {source.Length} {dtype} values take {(long)source.Length * size}", nameof(destination));
        }

        if (dtype == TensorDtype.Float32)
        {
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                return;
            }

            for (var i = 0; i < source.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(destination[(i * sizeof(float))..], source[i]);
            }

            return;
        }

        for (var i = 0; i < source.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(i * sizeof(ushort))..], BFloat16.FromSingle(source[i]));
        }
    }

    /// <summary>Writes <paramref name="source"/> as little-endian <paramref name="dtype"/> into a new array.</summary>
    public static byte[] FromSingles(ReadOnlySpan<float> source, TensorDtype dtype)
    {
        var bytes = new byte[(long)source.Length * ElementSize(dtype)];
        FromSingles(source, dtype, bytes);
        return bytes;
    }
}
