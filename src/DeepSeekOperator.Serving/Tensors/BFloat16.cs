namespace DeepSeekOperator.Serving.Tensors;

/// <summary>
/// bfloat16 as its 16 bits: the upper half of a float32 (sign, 8 exponent bits, 7 mantissa bits). Widening is
/// exact; narrowing rounds to nearest, ties to even, and keeps NaN a NaN of the same sign.
/// </summary>
public static class BFloat16
{
    /// <summary>The bfloat16 nearest to <paramref name="value"/> (ties to even); NaN stays NaN, infinities stay infinite.</summary>
    public static ushort FromSingle(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            // Truncating could clear every mantissa bit left (turning NaN into infinity); the quiet bit keeps it NaN.
            return (ushort)((bits >> 16) | 0x0040);
        }

        var roundingBias = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>The float32 equal to the bfloat16 <paramref name="bits"/>.</summary>
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
