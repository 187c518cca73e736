using System.Buffers.Binary;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Tensors;

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
}
