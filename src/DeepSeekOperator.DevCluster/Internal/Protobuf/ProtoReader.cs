namespace DeepSeekOperator.DevCluster.Internal.Protobuf;

/// <summary>The wire type carried in the low three bits of a protobuf field tag.</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// Reads protobuf wire data field by field: tags, varints and length-delimited payloads. Errors name the message being read
/// and the field number last seen, so a client learns where its body went wrong.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data, string message)
{
    private readonly ReadOnlySpan<byte> data = data;
    private int position;
    private int field;

    public readonly bool AtEnd => position >= data.Length;

    /// <summary>Reads a field tag: its number and wire type.</summary>
    public (int Number, WireType Type) ReadTag()
    {
        var key = ReadVarint(tag: true);
        var number = key >> 3;
        if (number is 0 or > 536_870_911)
        {
            throw new ProtobufDecodeException($"protobuf message {message} has an invalid field number {number} at byte {position}");
        }

        field = (int)number;
        var type = (WireType)(key & 7);
        return type <= WireType.Fixed32
            ? (field, type)
            : throw new ProtobufDecodeException($"protobuf field {field} of {message} has an invalid wire type {(int)type}");
    }

    /// <summary>Reads the value of a varint field.</summary>
    public ulong ReadVarint() => ReadVarint(tag: false);

    /// <summary>Reads the payload of a length-delimited field.</summary>
    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint(tag: false);
        if (length > (ulong)(data.Length - position))
        {
            throw new ProtobufDecodeException(
                $"protobuf field {field} of {message} is truncated: it declares {length} bytes but {data.Length - position} remain");
        }

        var payload = data.Slice(position, (int)length);
        position += (int)length;
        return payload;
    }

    private ulong ReadVarint(bool tag)
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (position >= data.Length)
            {
                throw new ProtobufDecodeException($"{Subject(tag)} is truncated: the body ends inside a varint");
            }

            var next = data[position++];
            if (shift == 63 && next > 1)
            {
                break;
            }

            value |= (ulong)(next & 0x7F) << shift;
            if (next < 0x80)
            {
                return value;
            }
        }

        throw new ProtobufDecodeException($"{Subject(tag)} holds a varint longer than 64 bits");
    }

    private readonly string Subject(bool tag) =>
        tag ? $"protobuf message {message} (after field {field})" : $"protobuf field {field} of {message}";
}
