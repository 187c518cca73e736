using DeepSeekOperator.Moe.Safetensors;

namespace DeepSeekOperator.Moe.Tests.Safetensors;

public sealed class SafetensorsDtypeTests
{
    [Theory]
    [InlineData("BOOL", SafetensorsDtype.BOOL, 1)]
    [InlineData("U8", SafetensorsDtype.U8, 1)]
    [InlineData("I8", SafetensorsDtype.I8, 1)]
    [InlineData("I16", SafetensorsDtype.I16, 2)]
    [InlineData("U16", SafetensorsDtype.U16, 2)]
    [InlineData("I32", SafetensorsDtype.I32, 4)]
    [InlineData("U32", SafetensorsDtype.U32, 4)]
    [InlineData("I64", SafetensorsDtype.I64, 8)]
    [InlineData("U64", SafetensorsDtype.U64, 8)]
    [InlineData("F16", SafetensorsDtype.F16, 2)]
    [InlineData("BF16", SafetensorsDtype.BF16, 2)]
    [InlineData("F32", SafetensorsDtype.F32, 4)]
    [InlineData("F64", SafetensorsDtype.F64, 8)]
    [InlineData("F8_E4M3", SafetensorsDtype.F8_E4M3, 1)]
    [InlineData("F8_E5M2", SafetensorsDtype.F8_E5M2, 1)]
    public void Parse_FormatName_GivesDtypeAndElementSize(string name, SafetensorsDtype dtype, int size)
    {
        Assert.Equal(dtype, SafetensorsDtypes.Parse(name));
        Assert.Equal(size, dtype.ElementSize());
        Assert.Equal(name, dtype.ToString());
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("float32")]
    [InlineData("11")]
    [InlineData("")]
    public void Parse_OtherText_IsRefusedNamingIt(string text)
    {
        var error = Assert.Throws<FormatException>(() => SafetensorsDtypes.Parse(text));

        Assert.Contains($"\"{text}\" is not a safetensors dtype", error.Message, StringComparison.Ordinal);
        Assert.False(SafetensorsDtypes.TryParse(text, out _));
    }
}
