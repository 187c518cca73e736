using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// Turns a JSON value into a CEL value typed by its schema, as Kubernetes' <c>UnstructuredToVal</c> does: <c>integer</c> is int,
/// <c>number</c> is double, int-or-string is int or string, string formats <c>byte</c>, <c>duration</c>, <c>date</c> and
/// <c>date-time</c> become bytes, durations and timestamps (a malformed one becomes an error that surfaces when used).
/// </summary>
internal static class CelJson
{
    public static object ToValue(JsonNode? node, JsonObject? schema)
    {
        switch (node)
        {
            case null:
                return CelNull.Instance;
            case JsonArray array:
                {
                    var items = schema?["items"] as JsonObject;
                    return new CelList([.. array.Select(item => ToValue(item, items))]);
                }

            case JsonObject obj:
                {
                    if (schema?["additionalProperties"] is JsonObject values)
                    {
                        return new CelMap(obj.Select(p => new KeyValuePair<object, object>(p.Key, ToValue(p.Value, values))));
                    }

                    var properties = schema?["properties"] as JsonObject;
                    var isObject = schema is not null && !CelSchema.Flag(schema, "x-kubernetes-int-or-string");
                    return new CelMap(
                        obj.Select(p => new KeyValuePair<object, object>(p.Key, ToValue(p.Value, properties?[p.Key] as JsonObject ?? MetadataSchema(schema, p.Key)))),
                        isObject);
                }

            case JsonValue value:
                return Scalar(value, schema);
            default:
                return CelNull.Instance;
        }
    }

    // Under an embedded resource or the root, metadata is typed even when the schema leaves it out.
    private static JsonObject? MetadataSchema(JsonObject? schema, string name) =>
        name == "metadata" && schema is not null ? CelSchema.Metadata : null;

    private static object Scalar(JsonValue value, JsonObject? schema)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Null:
                return CelNull.Instance;
            case JsonValueKind.Number:
                var number = value.TryGetValue<JsonElement>(out var element)
                    ? element
                    : JsonSerializer.Deserialize<JsonElement>(value.ToJsonString());
                if (CelSchema.Text(schema, "type") != "number" && number.TryGetInt64(out var whole))
                {
                    return whole;
                }

                return number.GetDouble();
            case JsonValueKind.String:
                return Text(value.GetValue<string>(), CelSchema.Text(schema, "type") == "string" ? CelSchema.Text(schema, "format") : null);
            default:
                return CelNull.Instance;
        }
    }

    private static object Text(string text, string? format)
    {
        switch (format)
        {
            case "duration":
                return CelTime.ParseSchemaDuration(text, out var error) is { } duration
                    ? duration
                    : new CelError($"Invalid duration {text}: {error}");
            case "date":
                return CelTime.ParseDate(text) is { } date
                    ? date
                    : new CelError($"Invalid date formatted string {text}: parsing time \"{text}\" as \"2006-01-02\": cannot parse");
            case "date-time":
                return CelTime.ParseTimestamp(text) is { } time
                    ? time
                    : new CelError($"Invalid date-time formatted string {text}: parsing time \"{text}\": cannot parse");
            case "byte":
                try
                {
                    return new CelBytes(Convert.FromBase64String(text));
                }
                catch (FormatException)
                {
                    return new CelError($"Invalid byte formatted string {text}: illegal base64 data");
                }

            default:
                return text;
        }
    }
}
