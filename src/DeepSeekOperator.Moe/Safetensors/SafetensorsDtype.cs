using System.Diagnostics.CodeAnalysis;
using TorchSharp;

namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>The element types of the safetensors format, named as the format spells them in a header's <c>dtype</c>.</summary>
[SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "The names are the format's own dtype strings.")]
public enum SafetensorsDtype
{
    /// <summary>Boolean, one byte.</summary>
    BOOL,

    /// <summary>Unsigned 8-bit integer.</summary>
    U8,

    /// <summary>Signed 8-bit integer.</summary>
    I8,

    /// <summary>Signed 16-bit integer.</summary>
    I16,

    /// <summary>Unsigned 16-bit integer.</summary>
    U16,

    /// <summary>Signed 32-bit integer.</summary>
    I32,

    /// <summary>Unsigned 32-bit integer.</summary>
    U32,

    /// <summary>Signed 64-bit integer.</summary>
    I64,

    /// <summary>Unsigned 64-bit integer.</summary>
    U64,

    /// <summary>IEEE 754 half precision.</summary>
    F16,

    /// <summary>bfloat16: the upper half of an IEEE 754 single.</summary>
    BF16,

    /// <summary>IEEE 754 single precision.</summary>
    F32,

    /// <summary>IEEE 754 double precision.</summary>
    F64,

    /// <summary>8-bit float, 4 exponent bits (bias 7) and 3 mantissa bits, the "e4m3fn" variant: no infinities, S.1111.111 is NaN, largest finite 448.</summary>
    F8_E4M3,

    /// <summary>8-bit float, 5 exponent bits (bias 15) and 2 mantissa bits, with infinities and NaNs as in IEEE 754.</summary>
    F8_E5M2,
}

/// <summary>Facts about <see cref="SafetensorsDtype"/> values.</summary>
public static class SafetensorsDtypes
{
    /// <summary>The size of one element in bytes.</summary>
    public static int ElementSize(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.BOOL or SafetensorsDtype.U8 or SafetensorsDtype.I8 or SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E5M2 => 1,
        SafetensorsDtype.I16 or SafetensorsDtype.U16 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 => 2,
        SafetensorsDtype.I32 or SafetensorsDtype.U32 or SafetensorsDtype.F32 => 4,
        SafetensorsDtype.I64 or SafetensorsDtype.U64 or SafetensorsDtype.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>Whether the dtype is one of the two 8-bit float formats, which are stored block-quantised with a scale tensor.</summary>
    public static bool IsFloat8(this SafetensorsDtype dtype) => dtype is SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E5M2;

    /// <summary>The dtype a header spells <paramref name="text"/>, matched exactly (case-sensitive, no numbers).</summary>
    /// <exception cref="FormatException"><paramref name="text"/> is not a safetensors dtype.</exception>
    public static SafetensorsDtype Parse(string text) => TryParse(text, out var dtype)
        ? dtype
        : throw new FormatException($"\"{text}\" is not a safetensors dtype (one of {string.Join(", ", Enum.GetNames<SafetensorsDtype>())})");

    /// <summary>The dtype a header spells <paramref name="text"/>, matched exactly (case-sensitive, no numbers).</summary>
    /// <returns>Whether <paramref name="text"/> is a safetensors dtype.</returns>
    public static bool TryParse(string? text, out SafetensorsDtype dtype)
    {
        SafetensorsDtype? found = text switch
        {
            "BOOL" => SafetensorsDtype.BOOL,
            "U8" => SafetensorsDtype.U8,
            "I8" => SafetensorsDtype.I8,
            "I16" => SafetensorsDtype.I16,
            "U16" => SafetensorsDtype.U16,
            "I32" => SafetensorsDtype.I32,
            "U32" => SafetensorsDtype.U32,
            "I64" => SafetensorsDtype.I64,
            "U64" => SafetensorsDtype.U64,
            "F16" => SafetensorsDtype.F16,
            "BF16" => SafetensorsDtype.BF16,
            "F32" => SafetensorsDtype.F32,
            "F64" => SafetensorsDtype.F64,
            "F8_E4M3" => SafetensorsDtype.F8_E4M3,
            "F8_E5M2" => SafetensorsDtype.F8_E5M2,
            _ => null,
        };
        dtype = found.GetValueOrDefault();
        return found.HasValue;
    }

    /// <summary>The torch element type that holds this dtype's bytes unchanged; null for the unsigned 16/32/64-bit integers, which torch lacks. The 8-bit floats are held as bytes.</summary>
    internal static torch.ScalarType? StorageType(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.BOOL => torch.ScalarType.Bool,
        SafetensorsDtype.U8 or SafetensorsDtype.F8_E4M3 or SafetensorsDtype.F8_E5M2 => torch.ScalarType.Byte,
        SafetensorsDtype.I8 => torch.ScalarType.Int8,
        SafetensorsDtype.I16 => torch.ScalarType.Int16,
        SafetensorsDtype.I32 => torch.ScalarType.Int32,
        SafetensorsDtype.I64 => torch.ScalarType.Int64,
        SafetensorsDtype.F16 => torch.ScalarType.Float16,
        SafetensorsDtype.BF16 => torch.ScalarType.BFloat16,
        SafetensorsDtype.F32 => torch.ScalarType.Float32,
        SafetensorsDtype.F64 => torch.ScalarType.Float64,
        _ => null,
    };

    /// <summary>The dtype a torch element type is written as; null for torch types the format has no name for.</summary>
    internal static SafetensorsDtype? FromTorch(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Bool => SafetensorsDtype.BOOL,
        torch.ScalarType.Byte => SafetensorsDtype.U8,
        torch.ScalarType.Int8 => SafetensorsDtype.I8,
        torch.ScalarType.Int16 => SafetensorsDtype.I16,
        torch.ScalarType.Int32 => SafetensorsDtype.I32,
        torch.ScalarType.Int64 => SafetensorsDtype.I64,
        torch.ScalarType.Float16 => SafetensorsDtype.F16,
        torch.ScalarType.BFloat16 => SafetensorsDtype.BF16,
        torch.ScalarType.Float32 => SafetensorsDtype.F32,
        torch.ScalarType.Float64 => SafetensorsDtype.F64,
        _ => null,
    };
}
