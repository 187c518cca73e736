using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>Helpers over <see cref="JsonNode"/> values shared by the patch implementations.</summary>
internal static partial class JsonValues
{
    /// <summary>Serializer options that escape only what JSON requires, closer to what Go writes than the default.</summary>
    public static JsonSerializerOptions Relaxed { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A deep copy that can be attached to another parent.</summary>
    public static JsonNode? Clone(JsonNode? node) => node?.DeepClone();

    /// <summary>Whether a node is absent or JSON <c>null</c>.</summary>
    public static bool IsNull(JsonNode? node) => node is null || (node is JsonValue v && v.GetValueKind() == JsonValueKind.Null);

    /// <summary>The string a node holds, or null when it is not a string.</summary>
    public static string? AsString(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>
    /// Structural equality the way Go compares decoded JSON: objects regardless of key order, arrays in order,
    /// numbers by value (<c>1</c> equals <c>1.0</c>).
    /// </summary>
    public static bool DeepEquals(JsonNode? a, JsonNode? b)
    {
        if (IsNull(a) || IsNull(b))
        {
            return IsNull(a) && IsNull(b);
        }

        switch (a, b)
        {
            case (JsonObject x, JsonObject y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                foreach (var (key, value) in x)
                {
                    if (!y.TryGetPropertyValue(key, out var other) || !DeepEquals(value, other))
                    {
                        return false;
                    }
                }

                return true;
            case (JsonArray x, JsonArray y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (!DeepEquals(x[i], y[i]))
                    {
                        return false;
                    }
                }

                return true;
            case (JsonValue x, JsonValue y):
                var kind = x.GetValueKind();
                if (kind != y.GetValueKind())
                {
                    return false;
                }

                return kind switch
                {
                    JsonValueKind.Number => Number(x) == Number(y),
                    JsonValueKind.String => x.GetValue<string>() == y.GetValue<string>(),
                    _ => true,
                };
            default:
                return false;
        }
    }

    /// <summary>
    /// Orders values the way structured-merge-diff's <c>value.Compare</c> does: by type first
    /// (null, numbers, strings, booleans, lists, maps), then by value.
    /// </summary>
    public static int Compare(JsonNode? a, JsonNode? b)
    {
        var (ra, rb) = (Rank(a), Rank(b));
        if (ra != rb)
        {
            return ra.CompareTo(rb);
        }

        switch (a, b)
        {
            case (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number:
                return Number(x).CompareTo(Number(y));
            case (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.String:
                return string.CompareOrdinal(x.GetValue<string>(), y.GetValue<string>());
            case (JsonValue x, JsonValue y):
                return (x.GetValueKind() == JsonValueKind.True).CompareTo(y.GetValueKind() == JsonValueKind.True);
            case (JsonArray x, JsonArray y):
                for (var i = 0; i < Math.Min(x.Count, y.Count); i++)
                {
                    var c = Compare(x[i], y[i]);
                    if (c != 0)
                    {
                        return c;
                    }
                }

                return x.Count.CompareTo(y.Count);
            default:
                return string.CompareOrdinal(Canonical(a), Canonical(b));
        }

        static int Rank(JsonNode? node) => node switch
        {
            null => 0,
            JsonArray => 5,
            JsonObject => 6,
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.Number => 1,
                JsonValueKind.String => 2,
                JsonValueKind.True or JsonValueKind.False => 3,
                _ => 0,
            },
            _ => 0,
        };
    }

    /// <summary>
    /// Compact JSON with object keys sorted and integral numbers written as integers, so that equal values
    /// give equal text (as Go's <c>encoding/json</c> writes a decoded map).
    /// </summary>
    public static string Canonical(JsonNode? node)
    {
        var text = new StringBuilder();
        Write(node, text);
        return text.ToString();

        static void Write(JsonNode? node, StringBuilder text)
        {
            switch (node)
            {
                case JsonObject o:
                    text.Append('{');
                    var first = true;
                    foreach (var (key, value) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        if (!first)
                        {
                            text.Append(',');
                        }

                        first = false;
                        text.Append(JsonSerializer.Serialize(key, Relaxed)).Append(':');
                        Write(value, text);
                    }

                    text.Append('}');
                    break;
                case JsonArray a:
                    text.Append('[');
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (i > 0)
                        {
                            text.Append(',');
                        }

                        Write(a[i], text);
                    }

                    text.Append(']');
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                    text.Append(FormatNumber(v));
                    break;
                case null:
                    text.Append("null");
                    break;
                default:
                    text.Append(node.ToJsonString(Relaxed));
                    break;
            }
        }
    }

    /// <summary>The value of a JSON number, whatever .NET type holds it.</summary>
    public static double Number(JsonValue number) =>
        number.TryGetValue<double>(out var d) ? d : double.Parse(number.ToJsonString(), CultureInfo.InvariantCulture);

    /// <summary>A number as Go prints it with <c>%v</c>: integers plainly, other floats in shortest form.</summary>
    public static string FormatNumber(JsonValue number)
    {
        var text = number.ToJsonString();
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }

        var d = Number(number);
        return d == Math.Floor(d) && Math.Abs(d) < 1e21
            ? d.ToString("F0", CultureInfo.InvariantCulture)
            : d.ToString("R", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A decoded JSON value as Go's <c>fmt</c> prints it with <c>%v</c> (<c>map[name:a ports:[80]]</c>), as the
    /// strategic-merge-patch error messages show it.
    /// </summary>
    public static string GoFormat(JsonNode? node) => node switch
    {
        null => "<nil>",
        JsonObject o => "map[" + string.Join(' ', o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ":" + GoFormat(p.Value))) + "]",
        JsonArray a => "[" + string.Join(' ', a.Select(GoFormat)) + "]",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.Number => FormatNumber(v),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => "<nil>",
        },
        _ => node.ToJsonString(),
    };

    /// <summary>
    /// Parses a request body as JSON, giving the message Go's <c>encoding/json</c> would for the common syntax errors.
    /// </summary>
    public static JsonNode? Parse(string text)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 10000 });
        }
        catch (JsonException e)
        {
            throw new FormatException(GoSyntaxError(e), e);
        }
    }

    /// <summary>
    /// Go's <c>json: cannot unmarshal X into Go value of type T</c> for a value of the wrong JSON type.
    /// </summary>
    public static string CannotUnmarshal(JsonNode? node, string goType)
    {
        var what = node switch
        {
            JsonObject => "object",
            JsonArray => "array",
            JsonValue v => v.GetValueKind() switch
            {
                JsonValueKind.String => "string",
                JsonValueKind.Number => "number",
                JsonValueKind.True or JsonValueKind.False => "bool",
                _ => "null",
            },
            _ => "null",
        };
        return $"json: cannot unmarshal {what} into Go value of type {goType}";
    }

    private static string GoSyntaxError(JsonException e)
    {
        var message = e.Message;
        if (message.Contains("does not contain any JSON tokens", StringComparison.Ordinal) ||
            message.Contains("Expected depth to be zero", StringComparison.Ordinal) ||
            message.Contains("end of data", StringComparison.Ordinal))
        {
            return "unexpected end of JSON input";
        }

        var match = OffendingCharacter().Match(message);
        return match.Success
            ? $"invalid character '{match.Groups[1].Value}' looking for beginning of value"
            : "invalid character in JSON input";
    }

    [GeneratedRegex("'(.)' is (?:an )?invalid")]
    private static partial Regex OffendingCharacter();
}
