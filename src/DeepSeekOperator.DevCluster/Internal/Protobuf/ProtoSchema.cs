using System.Collections.Frozen;

namespace DeepSeekOperator.DevCluster.Internal.Protobuf;

/// <summary>How a protobuf field is read and written as JSON.</summary>
internal enum ProtoKind
{
    /// <summary>A <c>string</c>; a JSON string.</summary>
    String,

    /// <summary>A <c>bool</c> varint; JSON true or false.</summary>
    Bool,

    /// <summary>An <c>int32</c> varint; a JSON number.</summary>
    Int32,

    /// <summary>An <c>int64</c> varint; a JSON number.</summary>
    Int64,

    /// <summary>A nested message; a JSON object, <c>{}</c> when it is present and empty.</summary>
    Message,

    /// <summary>A nested message whose Go struct is embedded with <c>json:",inline"</c>: its fields join the parent object.</summary>
    Inline,

    /// <summary><c>resource.Quantity</c> <c>{1: string}</c>; its string.</summary>
    Quantity,

    /// <summary><c>metav1.Time</c> <c>{1: seconds, 2: nanos}</c>; RFC 3339 in UTC to the second, omitted when zero.</summary>
    Time,

    /// <summary><c>intstr.IntOrString</c> <c>{1: type, 2: intVal, 3: strVal}</c>; a JSON number or string.</summary>
    IntOrString,

    /// <summary><c>runtime.RawExtension</c> or <c>metav1.FieldsV1</c> <c>{1: raw}</c>; the JSON document the bytes hold.</summary>
    RawJson,

    /// <summary><c>map&lt;string, string&gt;</c>; a JSON object of strings.</summary>
    StringMap,

    /// <summary><c>map&lt;string, bytes&gt;</c>; a JSON object of base64 strings.</summary>
    BytesMap,

    /// <summary><c>map&lt;string, Quantity&gt;</c>; a JSON object of quantity strings.</summary>
    QuantityMap,
}

/// <summary>
/// One field of a protobuf message: its number, its JSON name (the names in Kubernetes' <c>generated.proto</c> are the JSON
/// names), how it reads, and whether a zero value is kept. Go's generated marshallers write every non-pointer scalar, zero or
/// not, so a zero on the wire is dropped like <c>json:",omitempty"</c> drops it — unless the Go field is a pointer (present
/// only when set) or its JSON tag has no <c>omitempty</c>; <paramref name="KeepZero"/> marks those.
/// </summary>
/// <param name="Number">The protobuf field number.</param>
/// <param name="Name">The JSON field name.</param>
/// <param name="Kind">How the field reads.</param>
/// <param name="Message">For <see cref="ProtoKind.Message"/> and <see cref="ProtoKind.Inline"/>, the message type's name.</param>
/// <param name="Repeated">Whether the field is a list.</param>
/// <param name="KeepZero">Whether a zero scalar stays in the JSON.</param>
internal sealed record ProtoField(int Number, string Name, ProtoKind Kind, string? Message = null, bool Repeated = false, bool KeepZero = false);

/// <summary>A protobuf message type: its name as Go prints it (<c>v1.PodSpec</c>) and its fields by number.</summary>
/// <param name="Name">The message type's name.</param>
/// <param name="Fields">The fields the dev cluster reads, by field number.</param>
internal sealed record ProtoMessage(string Name, FrozenDictionary<int, ProtoField> Fields);
