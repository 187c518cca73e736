using System.Buffers.Binary;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Tensors;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.Tensors;

public class TensorBytesTests
{
    [Fact]
    public void Float32_RoundTripsExactly_InLittleEndianOrder()
    {
        float[] values = [1.5f, -2.25f, 0f, -0f, float.MaxValue, float.Epsilon, float.NegativeInfinity, 3.0e-38f];

        var bytes = TensorBytes.FromSingles(values, TensorDtype.Float32);

        Assert.Equal(values.Length * 4, bytes.Length);
        Assert.Equal(BitConverter.SingleToUInt32Bits(-2.25f), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        var back = TensorBytes.ToSingles(bytes, TensorDtype.Float32);
        Assert.Equal(values.Select(BitConverter.SingleToUInt32Bits), back.Select(BitConverter.SingleToUInt32Bits));
    }

    [Theory]
    [InlineData(0x3F800000u, (ushort)0x3F80)] // 1: exact
    [InlineData(0x3F808000u, (ushort)0x3F80)] // halfway, even below: stays
    [InlineData(0x3F818000u, (ushort)0x3F82)] // halfway, odd below: up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above halfway: up
    [InlineData(0x3F807FFFu, (ushort)0x3F80)] // just below halfway: down
    [InlineData(0xBF818000u, (ushort)0xBF82)] // negative, halfway: magnitude to even
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)] // float.MaxValue rounds to infinity
    [InlineData(0x7F800000u, (ushort)0x7F80)] // +infinity
    [InlineData(0xFF800000u, (ushort)0xFF80)] // -infinity
    public void BFloat16FromSingle_RoundsToNearestEven(uint float32Bits, ushort expected)
    {
        Assert.Equal(expected, BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(float32Bits)));
    }

    [Theory]
    [InlineData(0x7FC00000u)] // quiet NaN
    [InlineData(0x7F800001u)] // NaN whose payload lies only in the bits bfloat16 drops
    [InlineData(0xFF800001u)] // the same, negative
    [InlineData(0x7FFFFFFFu)] // a payload that rounding would carry into the exponent
    public void BFloat16FromSingle_NaN_StaysNaNWithItsSign(uint float32Bits)
    {
        var bits = BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(float32Bits));

        Assert.True(float.IsNaN(BFloat16.ToSingle(bits)));
        Assert.Equal(float32Bits >> 31, (uint)bits >> 15);
    }

    [Fact]
    public void BFloat16_RoundTripIsWithinHalfAUnitInTheLastPlace()
    {
        var random = new Random(5);
        var values = Enumerable.Range(0, 1000).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-20, 20)))).ToArray();

        var bytes = TensorBytes.FromSingles(values, TensorDtype.Bfloat16);
        var back = TensorBytes.ToSingles(bytes, TensorDtype.Bfloat16);

        Assert.Equal(values.Length * 2, bytes.Length);
        for (var i = 0; i < values.Length; i++)
        {
            // 8 significant bits: a unit in the last place is 2^-7 of the leading power of two, and rounding errs by half of it.
            Assert.InRange(Math.Abs(back[i] - values[i]), 0, Math.Abs(values[i]) * Math.Pow(2, -8));
        }
    }

    [Fact]
    public void ToSingles_BytesNotOneElementPerValue_IsRefusedNamingTheSource()
    {
        var error = Assert.Throws<ArgumentException>(() => TensorBytes.ToSingles(new byte[10], TensorDtype.Float32, new float[3]));

        Assert.Equal("source", error.ParamName);
        Assert.Contains("10 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToSingles_PartialElement_IsRefusedNamingTheSource()
    {
        var error = Assert.Throws<ArgumentException>(() => TensorBytes.ToSingles(new byte[5], TensorDtype.Bfloat16));

        Assert.Equal("source", error.ParamName);
    }

    [Fact]
    public void FromSingles_DestinationOfTheWrongLength_IsRefusedNamingTheDestination()
    {
        var error = Assert.Throws<ArgumentException>(() => TensorBytes.FromSingles([1f, 2f], TensorDtype.Bfloat16, new byte[3]));

        Assert.Equal("destination", error.ParamName);
    }

    [Fact]
    public void ElementSize_UnknownDtype_IsRefusedNamingTheDtype()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TensorBytes.ElementSize((TensorDtype)7));

        Assert.Equal("dtype", error.ParamName);
    }
    [Fact]
    public void FromSingles_Bfloat16_RoundsEveryValueAsTheScalarConversionDoes()
    {
        // Vector lanes and the scalar tail both: an odd count, random bit patterns (NaNs and infinities among them) and the halfway cases.
        var random = new Random(11);
        var values = Enumerable.Range(0, 4099).Select(_ => BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32))).ToList();
        values.AddRange([.. new uint[] { 0x3F808000, 0x3F818000, 0xBF818000, 0x7F7FFFFF, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0x00008000 }.Select(BitConverter.UInt32BitsToSingle)]);

        var bytes = TensorBytes.FromSingles(values.ToArray(), TensorDtype.Bfloat16);

        for (var i = 0; i < values.Count; i++)
        {
            Assert.Equal(BFloat16.FromSingle(values[i]), BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i * 2)));
        }
    }

    [Fact]
    public void ToSingles_Bfloat16_WidensEveryBitPatternExactly()
    {
        var bytes = new byte[65536 * 2];
        for (var bits = 0; bits < 65536; bits++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(bits * 2), (ushort)bits);
        }

        var values = TensorBytes.ToSingles(bytes, TensorDtype.Bfloat16);

        Assert.Equal(Enumerable.Range(0, 65536).Select(bits => (uint)bits << 16), values.Select(BitConverter.SingleToUInt32Bits));
    }

    [Theory]
    [InlineData(TensorDtype.Float32)]
    [InlineData(TensorDtype.Bfloat16)]
    public void AddSingles_AddsTheWireValuesToTheDestination(TensorDtype dtype)
    {
        // Values exact in bfloat16, so both dtypes must give the same sums; 37 covers the vector lanes and the tail.
        var partial = Enumerable.Range(0, 37).Select(i => (i - 18) * 0.25f).ToArray();
        var destination = Enumerable.Range(0, 37).Select(i => i * 1.5f).ToArray();
        var expected = destination.Zip(partial, (d, p) => d + p).ToArray();

        TensorBytes.AddSingles(TensorBytes.FromSingles(partial, dtype), dtype, destination);

        Assert.Equal(expected, destination);
    }

    [Fact]
    public void AddSingles_BytesNotOneElementPerValue_IsRefusedNamingTheSource()
    {
        var destination = new float[3];

        var error = Assert.Throws<ArgumentException>(() => TensorBytes.AddSingles(new byte[8], TensorDtype.Float32, destination));

        Assert.Equal("source", error.ParamName);
        Assert.Contains("8 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToTensor_Float32_HoldsTheWireValuesExactlyInTheShape()
    {
        float[] values = [1.5f, -2.25f, float.Epsilon, float.NegativeInfinity, 3.0e-38f, -0f];

        using var tensor = TensorBytes.ToTensor(TensorBytes.FromSingles(values, TensorDtype.Float32), TensorDtype.Float32, 2, 3, CPU);

        Assert.Equal([2L, 3L], tensor.shape);
        Assert.Equal(ScalarType.Float32, tensor.dtype);
        Assert.Equal(values.Select(BitConverter.SingleToUInt32Bits), tensor.data<float>().ToArray().Select(BitConverter.SingleToUInt32Bits));
    }

    [Fact]
    public void ToTensor_Bfloat16_HoldsTheWidenedValues()
    {
        float[] values = [1f, -0.5f, 3.140625f, 65536f];

        using var tensor = TensorBytes.ToTensor(TensorBytes.FromSingles(values, TensorDtype.Bfloat16), TensorDtype.Bfloat16, 4, 1, CPU);

        Assert.Equal(ScalarType.Float32, tensor.dtype);
        Assert.Equal(values, tensor.data<float>().ToArray());
    }

    [Fact]
    public void ToTensor_BytesNotOneElementPerValueOfTheShape_IsRefusedNamingTheSource()
    {
        var error = Assert.Throws<ArgumentException>(() => TensorBytes.ToTensor(new byte[24], TensorDtype.Float32, 2, 2, CPU));

        Assert.Equal("source", error.ParamName);
        Assert.Contains("[2, 2]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToTensor_NegativeRows_IsRefusedNamingTheRows()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => TensorBytes.ToTensor([], TensorDtype.Float32, -1, 2, CPU));

        Assert.Equal("rows", error.ParamName);
    }

    [Fact]
    public void FromTensor_Float32_RoundTripsExactlyThroughToTensor()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 60).Select(_ => BitConverter.UInt32BitsToSingle((uint)random.NextInt64(0, 1L << 32))).ToArray();
        var bytes = TensorBytes.FromSingles(values, TensorDtype.Float32);

        using var tensor = TensorBytes.ToTensor(bytes, TensorDtype.Float32, 6, 10, CPU);

        Assert.Equal(bytes, TensorBytes.FromTensor(tensor, TensorDtype.Float32));
    }

    [Fact]
    public void FromTensor_NotContiguousAndBfloat16_WritesTheValuesInRowMajorOrder()
    {
        using var source = tensor(new float[] { 1f, 2f, 3f, 4f, 5f, 6f }, [2, 3], ScalarType.BFloat16);
        using var transposed = source.t();

        var bytes = TensorBytes.FromTensor(transposed, TensorDtype.Float32);

        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], TensorBytes.ToSingles(bytes, TensorDtype.Float32));
    }

    [Fact]
    public void FromTensor_Bfloat16_RoundsAsFromSinglesDoes()
    {
        float[] values = [BitConverter.UInt32BitsToSingle(0x3F818000), BitConverter.UInt32BitsToSingle(0x3F808001), -1.2345f];
        using var source = tensor(values, [3], ScalarType.Float32);

        Assert.Equal(TensorBytes.FromSingles(values, TensorDtype.Bfloat16), TensorBytes.FromTensor(source, TensorDtype.Bfloat16));
    }
    [Fact]
    public void Storage_IsTheTensorsOwnValues_WrittenInPlace()
    {
        using var values = zeros([2, 2], ScalarType.Float32);

        TensorBytes.Storage(values)[3] = 7f;

        Assert.Equal([0f, 0f, 0f, 7f], values.data<float>().ToArray());
    }

    [Fact]
    public void Storage_EmptyTensor_IsEmpty()
    {
        using var values = empty([0, 4], ScalarType.Float32);

        Assert.Equal(0, TensorBytes.Storage(values).Length);
    }

    [Fact]
    public void Storage_NotFloat32OrNotContiguous_IsRefusedNamingTheSource()
    {
        using var bf16 = zeros([2, 2], ScalarType.BFloat16);
        using var wide = zeros([2, 3], ScalarType.Float32);
        using var transposed = wide.t();

        Assert.Equal("source", Assert.Throws<ArgumentException>(() => TensorBytes.Storage(bf16)).ParamName);
        var error = Assert.Throws<ArgumentException>(() => TensorBytes.Storage(transposed));
        Assert.Contains("non-contiguous", error.Message, StringComparison.Ordinal);
    }
}
