using System.Buffers.Binary;
using System.Text.Json;

namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>One tensor to write: values are given as float32 and stored in <paramref name="Dtype"/> (F32, F16 or BF16).</summary>
internal sealed record TensorToWrite(string Name, long[] Shape, float[] Values, string Dtype = "F32");

/// <summary>A minimal safetensors writer for test checkpoints: header padded with spaces to 8 bytes, tensors in order.</summary>
internal static class RefSafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/>.</summary>
    public static void Write(string path, IEnumerable<TensorToWrite> tensors)
    {
        var list = tensors.ToList();
        using var data = new MemoryStream();
        using var headerBuffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerBuffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            json.WriteString("format", "pt");
            json.WriteEndObject();
            foreach (var tensor in list)
            {
                var expected = tensor.Shape.Aggregate(1L, (product, dimension) => product * dimension);
                if (expected != tensor.Values.Length)
                {
                    throw new ArgumentException($"{tensor.Name}: shape [{string.Join(", ", tensor.Shape)}] needs {expected} values, got {tensor.Values.Length}");
                }

                var begin = data.Length;
                var bytes = Encode(tensor);
                data.Write(bytes);
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.Dtype);
                json.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    json.WriteNumberValue(dimension);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(begin);
                json.WriteNumberValue(data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        var header = headerBuffer.ToArray().ToList();
        while (header.Count % 8 != 0)
        {
            header.Add((byte)' ');
        }

        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Count);
        file.Write(length);
        file.Write(header.ToArray());
        data.Position = 0;
        data.CopyTo(file);
    }

    /// <summary>Rounds a float32 to the nearest bfloat16 (ties to even), as its upper 16 bits.</summary>
    public static ushort ToBFloat16(float value)
    {
        var bits = (uint)BitConverter.SingleToInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        var roundingBias = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    private static byte[] Encode(TensorToWrite tensor)
    {
        var values = tensor.Values;
        switch (tensor.Dtype)
        {
            case "F32":
                var f32 = new byte[values.Length * 4];
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(f32.AsSpan(i * 4), values[i]);
                }

                return f32;
            case "F16":
                var f16 = new byte[values.Length * 2];
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(i * 2), (Half)values[i]);
                }

                return f16;
            case "BF16":
                var bf16 = new byte[values.Length * 2];
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(i * 2), ToBFloat16(values[i]));
                }

                return bf16;
            default:
                throw new ArgumentException($"{tensor.Name}: the writer stores F32, F16 or BF16, not {tensor.Dtype}");
        }
    }
}
