using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Protobuf;

/// <summary>
/// Turns a <c>application/vnd.kubernetes.protobuf</c> request body into the JSON object the same Go struct would marshal to:
/// the magic <c>k8s\0</c>, then a <c>runtime.Unknown</c> whose <c>raw</c> holds the object, read with
/// <see cref="KubernetesProtoSchema"/>.
/// </summary>
internal static class ProtobufObjectDecoder
{
    /// <summary>The media type Kubernetes' protobuf encoding travels under.</summary>
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private const string Unknown = "runtime.Unknown";

    private static ReadOnlySpan<byte> Magic => "k8s\0"u8;

    /// <summary>
    /// Decodes <paramref name="body"/>; null when it holds an object the schema table has no message for, or one whose raw
    /// bytes are not protobuf. Malformed data or an unsupported field throws <see cref="ProtobufDecodeException"/>.
    /// </summary>
    public static JsonObject? Decode(ReadOnlySpan<byte> body)
    {
        if (!body.StartsWith(Magic))
        {
            throw new ProtobufDecodeException("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]");
        }

        string apiVersion = "", kind = "", contentEncoding = "", contentType = "";
        var raw = ReadOnlySpan<byte>.Empty;
        var reader = new ProtoReader(body[Magic.Length..], Unknown);
        while (!reader.AtEnd)
        {
            var (number, wire) = reader.ReadTag();
            Expect(number, wire, WireType.LengthDelimited, Unknown);
            var payload = reader.ReadLengthDelimited();
            switch (number)
            {
                case 1:
                    (apiVersion, kind) = ReadTypeMeta(payload);
                    break;
                case 2:
                    raw = payload;
                    break;
                case 3:
                    contentEncoding = Encoding.UTF8.GetString(payload);
                    break;
                case 4:
                    contentType = Encoding.UTF8.GetString(payload);
                    break;
                default:
                    throw NotSupported(number, Unknown);
            }
        }

        var message = KubernetesProtoSchema.ForKind(apiVersion, kind);
        if (message is null || contentEncoding.Length > 0 || contentType is not ("" or MediaType))
        {
            return null;
        }

        var fields = new JsonObject();
        DecodeInto(raw, message, fields);
        var result = new JsonObject { ["kind"] = kind, ["apiVersion"] = apiVersion };
        foreach (var (name, value) in fields.ToList())
        {
            fields.Remove(name);
            result[name] = value;
        }

        return result;
    }

    private static (string ApiVersion, string Kind) ReadTypeMeta(ReadOnlySpan<byte> bytes)
    {
        const string TypeMeta = "runtime.TypeMeta";
        string apiVersion = "", kind = "";
        var reader = new ProtoReader(bytes, TypeMeta);
        while (!reader.AtEnd)
        {
            var (number, wire) = reader.ReadTag();
            Expect(number, wire, WireType.LengthDelimited, TypeMeta);
            var value = Encoding.UTF8.GetString(reader.ReadLengthDelimited());
            _ = number switch
            {
                1 => apiVersion = value,
                2 => kind = value,
                _ => throw NotSupported(number, TypeMeta),
            };
        }

        return (apiVersion, kind);
    }

    private static void DecodeInto(ReadOnlySpan<byte> bytes, ProtoMessage message, JsonObject target)
    {
        var reader = new ProtoReader(bytes, message.Name);
        while (!reader.AtEnd)
        {
            var (number, wire) = reader.ReadTag();
            if (!message.Fields.TryGetValue(number, out var field))
            {
                throw NotSupported(number, message.Name);
            }

            var scalar = field.Kind is ProtoKind.Bool or ProtoKind.Int32 or ProtoKind.Int64;
            Expect(number, wire, scalar ? WireType.Varint : WireType.LengthDelimited, message.Name);
            if (scalar)
            {
                var varint = reader.ReadVarint();
                JsonNode value = field.Kind switch
                {
                    ProtoKind.Bool => varint != 0,
                    ProtoKind.Int32 => (int)varint,
                    _ => (long)varint,
                };
                Set(target, field, value, zero: varint == 0);
                continue;
            }

            var payload = reader.ReadLengthDelimited();
            switch (field.Kind)
            {
                case ProtoKind.Message when field.Repeated:
                    var item = new JsonObject();
                    DecodeInto(payload, KubernetesProtoSchema.Get(field.Message!), item);
                    List(target, field.Name).Add(item);
                    break;
                case ProtoKind.Message:
                    DecodeInto(payload, KubernetesProtoSchema.Get(field.Message!), Child(target, field.Name));
                    break;
                case ProtoKind.Inline:
                    DecodeInto(payload, KubernetesProtoSchema.Get(field.Message!), target);
                    break;
                case ProtoKind.StringMap or ProtoKind.BytesMap or ProtoKind.QuantityMap:
                    var (key, value) = ReadMapEntry(payload, field, message.Name);
                    Child(target, field.Name)[key] = value;
                    break;
                default:
                    Set(target, field, ReadValue(payload, field, message.Name), zero: field.Kind == ProtoKind.String && payload.IsEmpty);
                    break;
            }
        }
    }

    private static JsonNode? ReadValue(ReadOnlySpan<byte> payload, ProtoField field, string message) => field.Kind switch
    {
        ProtoKind.String => JsonValue.Create(Encoding.UTF8.GetString(payload)),
        ProtoKind.Quantity => ReadQuantity(payload),
        ProtoKind.Time => ReadTime(payload, field, message),
        ProtoKind.IntOrString => ReadIntOrString(payload, field, message),
        _ => ReadRawJson(payload, field, message),
    };

    /// <summary>Stores a field's value; a zero scalar is dropped as <c>omitempty</c> drops it unless the field keeps zeros.</summary>
    private static void Set(JsonObject target, ProtoField field, JsonNode? value, bool zero)
    {
        if (field.Repeated)
        {
            List(target, field.Name).Add(value);
        }
        else if (value is null || (zero && !field.KeepZero))
        {
            target.Remove(field.Name);
        }
        else
        {
            target[field.Name] = value;
        }
    }

    private static (string Key, JsonNode Value) ReadMapEntry(ReadOnlySpan<byte> entry, ProtoField field, string message)
    {
        var owner = $"the {field.Name} map entry of {message}";
        var key = "";
        JsonNode value = field.Kind == ProtoKind.QuantityMap ? "0" : "";
        var reader = new ProtoReader(entry, owner);
        while (!reader.AtEnd)
        {
            var (number, wire) = reader.ReadTag();
            Expect(number, wire, WireType.LengthDelimited, owner);
            var payload = reader.ReadLengthDelimited();
            switch (number)
            {
                case 1:
                    key = Encoding.UTF8.GetString(payload);
                    break;
                case 2:
                    value = field.Kind switch
                    {
                        ProtoKind.StringMap => Encoding.UTF8.GetString(payload),
                        ProtoKind.BytesMap => Convert.ToBase64String(payload),
                        _ => ReadQuantity(payload),
                    };
                    break;
                default:
                    throw NotSupported(number, owner);
            }
        }

        return (key, value);
    }

    /// <summary><c>resource.Quantity</c>: its string, <c>"0"</c> when absent as Go's zero quantity marshals.</summary>
    private static JsonNode ReadQuantity(ReadOnlySpan<byte> bytes)
    {
        const string Quantity = "resource.Quantity";
        var text = "0";
        var reader = new ProtoReader(bytes, Quantity);
        while (!reader.AtEnd)
        {
            var (number, wire) = reader.ReadTag();
            Expect(number, wire, WireType.LengthDelimited, Quantity);
            text = number == 1 ? Encoding.UTF8.GetString(reader.ReadLengthDelimited()) : throw NotSupported(number, Quantity);
        }

        return text;
    }

    /// <summary><c>metav1.Time</c>: Go marshals the zero time as no bytes, and JSON writes it as null, so it is omitted.</summary>
    private static JsonNode? ReadTime(ReadOnlySpan<byte> bytes, ProtoField field, string message)
    {
        const string Timestamp = "v1.Time";
        if (bytes.IsEmpty)
        {
            return null;
        }

        long seconds = 0;
        var reader = new ProtoReader(bytes, Timestamp);
        while (!reader.AtEnd)
        {
            var (number, wire) = reader.ReadTag();
            Expect(number, wire, WireType.Varint, Timestamp);
            var value = reader.ReadVarint();
            switch (number)
            {
                case 1:
                    seconds = (long)value;
                    break;
                case 2:
                    // Nanoseconds: metav1.Time's JSON is RFC 3339 to the second.
                    break;
                default:
                    throw NotSupported(number, Timestamp);
            }
        }

        if (seconds < DateTimeOffset.MinValue.ToUnixTimeSeconds() || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            throw new ProtobufDecodeException($"protobuf field {field.Number} of {message} holds a time {seconds} s from 1970, outside years 1 to 9999");
        }

        return DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    private static JsonNode ReadIntOrString(ReadOnlySpan<byte> bytes, ProtoField field, string message)
    {
        const string IntOrString = "intstr.IntOrString";
        long type = 0;
        var intValue = 0;
        var stringValue = "";
        var reader = new ProtoReader(bytes, IntOrString);
        while (!reader.AtEnd)
        {
            var (number, wire) = reader.ReadTag();
            Expect(number, wire, number == 3 ? WireType.LengthDelimited : WireType.Varint, IntOrString);
            switch (number)
            {
                case 1:
                    type = (long)reader.ReadVarint();
                    break;
                case 2:
                    intValue = (int)reader.ReadVarint();
                    break;
                case 3:
                    stringValue = Encoding.UTF8.GetString(reader.ReadLengthDelimited());
                    break;
                default:
                    throw NotSupported(number, IntOrString);
            }
        }

        return type switch
        {
            0 => intValue,
            1 => stringValue,
            _ => throw new ProtobufDecodeException($"protobuf field {field.Number} of {message} is an IntOrString of unknown type {type}"),
        };
    }

    /// <summary><c>runtime.RawExtension</c> and <c>metav1.FieldsV1</c>: <c>{1: raw}</c>, the raw bytes being a JSON document.</summary>
    private static JsonNode? ReadRawJson(ReadOnlySpan<byte> bytes, ProtoField field, string message)
    {
        var owner = $"the {field.Name} field of {message}";
        var raw = ReadOnlySpan<byte>.Empty;
        var reader = new ProtoReader(bytes, owner);
        while (!reader.AtEnd)
        {
            var (number, wire) = reader.ReadTag();
            Expect(number, wire, WireType.LengthDelimited, owner);
            raw = number == 1 ? reader.ReadLengthDelimited() : throw NotSupported(number, owner);
        }

        try
        {
            return raw.IsEmpty ? null : JsonNode.Parse(raw);
        }
        catch (JsonException error)
        {
            throw new ProtobufDecodeException($"protobuf field {field.Number} of {message} does not hold JSON: {error.Message}");
        }
    }

    private static JsonObject Child(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[name] = created;
        return created;
    }

    private static JsonArray List(JsonObject parent, string name)
    {
        if (parent[name] is JsonArray existing)
        {
            return existing;
        }

        var created = new JsonArray();
        parent[name] = created;
        return created;
    }

    private static void Expect(int number, WireType actual, WireType expected, string message)
    {
        if (actual != expected)
        {
            throw new ProtobufDecodeException($"protobuf field {number} of {message} has wire type {actual}, expected {expected}");
        }
    }

    private static ProtobufDecodeException NotSupported(int number, string message) =>
        new($"protobuf field {number} of {message} is not supported by the dev cluster; send JSON");
}
