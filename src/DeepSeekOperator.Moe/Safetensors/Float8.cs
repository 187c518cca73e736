using TorchSharp;

namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>
/// Decodes the 8-bit float formats and dequantises block-scaled weights: <c>w[i, j] = fp8(q[i, j]) * scale_inv[i / 128, j / 128]</c>,
/// as DeepSeek-V3's checkpoints store them. Decoding goes through a 256-entry table indexed in torch, so no C# loop runs per element.
/// </summary>
internal static class Float8
{
    /// <summary>The side of the square blocks one scale covers.</summary>
    public const int BlockSize = 128;

    /// <summary>About how many elements one band of rows decodes at once, to bound the temporaries.</summary>
    private const long BandElements = 1L << 22;

    private static readonly float[] E4M3 = BuildTable(SafetensorsDtype.F8_E4M3);
    private static readonly float[] E5M2 = BuildTable(SafetensorsDtype.F8_E5M2);

    /// <summary>The value of one 8-bit code.</summary>
    public static float Decode(byte code, SafetensorsDtype format) => Table(format)[code];

    /// <summary>The shape of the scale tensor for a 2-D weight: one scale per 128×128 block, edge blocks included.</summary>
    public static long[] ScaleShape(long rows, long columns) => [(rows + BlockSize - 1) / BlockSize, (columns + BlockSize - 1) / BlockSize];

    /// <summary>Dequantises a 2-D weight of 8-bit codes with its per-block scales.</summary>
    /// <param name="codes">The codes, a Byte tensor [rows, columns].</param>
    /// <param name="scaleInv">The scales, a Float32 tensor of <see cref="ScaleShape"/> on the same device.</param>
    /// <param name="format">Which 8-bit format the codes are.</param>
    /// <param name="dtype">The element type of the result; the products are formed in float32 and then converted.</param>
    /// <param name="bandElements">About how many elements to decode at once; bands are whole blocks of rows.</param>
    public static torch.Tensor Dequantize(torch.Tensor codes, torch.Tensor scaleInv, SafetensorsDtype format, torch.ScalarType dtype, long bandElements = BandElements)
    {
        using var scope = torch.NewDisposeScope();
        var rows = codes.shape[0];
        var columns = codes.shape[1];
        var output = torch.empty([rows, columns], dtype, codes.device);
        var table = torch.tensor(Table(format), device: codes.device);
        var bandRows = Math.Max(1, bandElements / Math.Max(1, columns) / BlockSize) * BlockSize;
        for (long start = 0; start < rows; start += bandRows)
        {
            using var band = torch.NewDisposeScope();
            var count = Math.Min(bandRows, rows - start);
            var values = table.index_select(0, codes.narrow(0, start, count).reshape(-1).to(torch.ScalarType.Int32)).view(count, columns);
            var scales = scaleInv.narrow(0, start / BlockSize, (count + BlockSize - 1) / BlockSize)
                .repeat_interleave(BlockSize, 0).narrow(0, 0, count)
                .repeat_interleave(BlockSize, 1).narrow(1, 0, columns);
            output.narrow(0, start, count).copy_(values.mul_(scales));
        }

        return output.MoveToOuterDisposeScope();
    }

    private static float[] Table(SafetensorsDtype format) => format switch
    {
        SafetensorsDtype.F8_E4M3 => E4M3,
        SafetensorsDtype.F8_E5M2 => E5M2,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not an 8-bit float format"),
    };

    private static float[] BuildTable(SafetensorsDtype format)
    {
        var table = new float[256];
        for (var code = 0; code < 256; code++)
        {
            var sign = (code & 0x80) != 0 ? -1f : 1f;
            table[code] = sign * (format == SafetensorsDtype.F8_E4M3 ? E4M3Magnitude(code & 0x7F) : E5M2Magnitude(code & 0x7F));
        }

        return table;
    }

    /// <summary>e4m3fn: bias 7, 3 mantissa bits, subnormals at exponent 0, no infinities, only S.1111.111 is NaN.</summary>
    private static float E4M3Magnitude(int bits)
    {
        var exponent = bits >> 3;
        var mantissa = bits & 0x7;
        return exponent switch
        {
            0 => mantissa * MathF.ScaleB(1f, -9),
            0xF when mantissa == 0x7 => float.NaN,
            _ => (1f + (mantissa / 8f)) * MathF.ScaleB(1f, exponent - 7),
        };
    }

    /// <summary>e5m2: bias 15, 2 mantissa bits, subnormals at exponent 0, infinities and NaNs at exponent 31 as in IEEE 754.</summary>
    private static float E5M2Magnitude(int bits)
    {
        var exponent = bits >> 2;
        var mantissa = bits & 0x3;
        return exponent switch
        {
            0 => mantissa * MathF.ScaleB(1f, -16),
            0x1F => mantissa == 0 ? float.PositiveInfinity : float.NaN,
            _ => (1f + (mantissa / 4f)) * MathF.ScaleB(1f, exponent - 15),
        };
    }
}
