namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>One tensor of a safetensors file, as its header describes it.</summary>
/// <param name="Name">The tensor's name, e.g. <c>model.layers.0.mlp.gate.weight</c>.</param>
/// <param name="Dtype">The element type the bytes are stored in.</param>
/// <param name="Shape">The dimensions, outermost first (row-major); empty for a scalar.</param>
/// <param name="File">The full path of the file that holds the tensor.</param>
/// <param name="DataOffset">Where the tensor's bytes begin, counted from the start of the file.</param>
/// <param name="ByteLength">How many bytes the tensor's data takes.</param>
public sealed record TensorEntry(string Name, SafetensorsDtype Dtype, IReadOnlyList<long> Shape, string File, long DataOffset, long ByteLength)
{
    /// <summary>The number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount { get; } = ShapeText.ElementCount(Shape);

    /// <summary>The entry as one line: name, dtype, shape, where its bytes lie and in which file.</summary>
    public override string ToString() => $"{Name}: {Dtype} {ShapeText.Format(Shape)} at {DataOffset} (+{ByteLength}) in {File}";
}

/// <summary>Shape arithmetic and formatting shared by the reader and the writer.</summary>
internal static class ShapeText
{
    /// <summary>The product of the dimensions, checked for overflow.</summary>
    /// <exception cref="OverflowException">The product does not fit a 64-bit integer.</exception>
    public static long ElementCount(IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (var dimension in shape)
        {
            count = checked(count * dimension);
        }

        return count;
    }

    /// <summary>A shape as <c>[4, 8]</c>.</summary>
    public static string Format(IEnumerable<long> shape) => $"[{string.Join(", ", shape)}]";
}
