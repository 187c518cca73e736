namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>A tensor given as its stored bytes, for writing any dtype the format knows (the 8-bit floats and their scales included).</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Dtype">The element type the bytes are in.</param>
/// <param name="Shape">The dimensions, outermost first; empty for a scalar.</param>
/// <param name="Data">The elements, row-major and little-endian: exactly product(<paramref name="Shape"/>) × the dtype's size bytes.</param>
public sealed record RawTensor(string Name, SafetensorsDtype Dtype, IReadOnlyList<long> Shape, ReadOnlyMemory<byte> Data);
