using System.Text;

namespace DeepSeekOperator.DevCluster.Tests.Protobuf;

/// <summary>
/// Writes protobuf wire data for fixtures, field by field in the order a test lists them, the way Go's generated marshallers
/// lay them out: a tag, then a varint or a length-delimited payload.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> bytes = [];

    /// <summary>A Kubernetes protobuf request body: <c>k8s\0</c> and a <c>runtime.Unknown</c> holding the object.</summary>
    public static byte[] Envelope(string apiVersion, string kind, Action<ProtoWriter> write)
    {
        var unknown = new ProtoWriter()
            .Message(1, typeMeta => typeMeta.String(1, apiVersion).String(2, kind))
            .Message(2, write)
            .String(3, "")
            .String(4, "");
        return [.. "k8s\0"u8, .. unknown.ToArray()];
    }

    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        WriteVarint((ulong)value);
        return this;
    }

    public ProtoWriter Bool(int field, bool value) => Varint(field, value ? 1 : 0);

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Bytes(int field, byte[] value)
    {
        Tag(field, 2);
        WriteVarint((ulong)value.Length);
        bytes.AddRange(value);
        return this;
    }

    public ProtoWriter Message(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        return Bytes(field, inner.ToArray());
    }

    /// <summary>An empty message, as Go writes a zero struct or a zero <c>metav1.Time</c>.</summary>
    public ProtoWriter Empty(int field) => Bytes(field, []);

    /// <summary>One entry of a <c>map&lt;string, string&gt;</c>.</summary>
    public ProtoWriter Entry(int field, string key, string value) => Message(field, entry => entry.String(1, key).String(2, value));

    /// <summary>One entry of a <c>map&lt;string, Quantity&gt;</c>.</summary>
    public ProtoWriter QuantityEntry(int field, string key, string quantity) =>
        Message(field, entry => entry.String(1, key).Message(2, value => value.String(1, quantity)));

    /// <summary>An <c>intstr.IntOrString</c> holding a number.</summary>
    public ProtoWriter Int(int field, int value) => Message(field, intOrString => intOrString.Varint(1, 0).Varint(2, value).String(3, ""));

    /// <summary>An <c>intstr.IntOrString</c> holding a string.</summary>
    public ProtoWriter Str(int field, string value) => Message(field, intOrString => intOrString.Varint(1, 1).Varint(2, 0).String(3, value));

    public byte[] ToArray() => [.. bytes];

    private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
    }
}
