using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// How Go renders decoded JSON values (<c>map[string]interface{}</c>, <c>[]interface{}</c>, <c>string</c>, <c>int64</c>,
/// <c>float64</c>, <c>bool</c>, nil): <c>fmt.Sprint</c>, <c>%v</c>, type names and <c>encoding/json.Marshal</c>. JSONPath output
/// and its error messages are built from these.
/// </summary>
internal static class GoText
{
    /// <summary>True when the JSON number is an integer that fits an <c>int64</c>, as the Kubernetes JSON decoder keeps it.</summary>
    public static bool IsInteger(JsonValue number, out long value) =>
        long.TryParse(number.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>The <c>float64</c> a JSON number decodes to.</summary>
    public static double ToDouble(JsonValue number) => double.Parse(number.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>Go's name for the decoded value's type: <c>map[string]interface {}</c>, <c>[]interface {}</c>, <c>string</c>, ….</summary>
    public static string TypeName(JsonNode? node) => node switch
    {
        null => "interface {}",
        JsonObject => "map[string]interface {}",
        JsonArray => "[]interface {}",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => "string",
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValue v when IsInteger(v, out _) => "int64",
        _ => "float64",
    };

    /// <summary><c>fmt.Sprint</c> of a decoded value (<c>%v</c>): maps as <c>map[k:v]</c> with sorted keys, slices as <c>[a b]</c>.</summary>
    public static string Sprint(JsonNode? node)
    {
        var text = new StringBuilder();
        AppendSprint(text, node);
        return text.ToString();
    }

    /// <summary>A scalar the way <c>fmt.Fprint</c> writes it in JSONPath text output; JSON null prints as <c>null</c>.</summary>
    public static string PrintScalar(JsonNode? node) => node is null ? "null" : Sprint(node);

    /// <summary>Go's <c>%v</c> of a <c>float64</c>: the shortest digits, in exponent form below 1e-4 and from 1e6 on (<c>1e+06</c>).</summary>
    public static string FormatFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        var (negative, digits, point) = Decompose(value);
        var exponent = point - 1;
        var body = exponent < -4 || exponent >= 6 ? ExponentForm(digits, exponent, twoDigitExponent: true) : FixedForm(digits, point);
        return negative ? "-" + body : body;
    }

    /// <summary><c>encoding/json.Marshal</c> of a decoded value: compact, keys sorted, HTML characters escaped.</summary>
    public static string Marshal(JsonNode? node)
    {
        var text = new StringBuilder();
        AppendJson(text, node);
        return text.ToString();
    }

    private static void AppendSprint(StringBuilder text, JsonNode? node)
    {
        switch (node)
        {
            case null:
                text.Append("<nil>");
                break;
            case JsonObject o:
                text.Append("map[");
                var first = true;
                foreach (var (key, value) in o.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    text.Append(first ? "" : " ").Append(key).Append(':');
                    AppendSprint(text, value);
                    first = false;
                }

                text.Append(']');
                break;
            case JsonArray a:
                text.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    text.Append(i == 0 ? "" : " ");
                    AppendSprint(text, a[i]);
                }

                text.Append(']');
                break;
            case JsonValue v:
                text.Append(v.GetValueKind() switch
                {
                    JsonValueKind.String => v.GetValue<string>(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => IsInteger(v, out var integer) ? integer.ToString(CultureInfo.InvariantCulture) : FormatFloat(ToDouble(v)),
                });
                break;
        }
    }

    private static void AppendJson(StringBuilder text, JsonNode? node)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject o:
                text.Append('{');
                var first = true;
                foreach (var (key, value) in o.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    text.Append(first ? "" : ",");
                    AppendJsonString(text, key);
                    text.Append(':');
                    AppendJson(text, value);
                    first = false;
                }

                text.Append('}');
                break;
            case JsonArray a:
                text.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    text.Append(i == 0 ? "" : ",");
                    AppendJson(text, a[i]);
                }

                text.Append(']');
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String:
                        AppendJsonString(text, v.GetValue<string>());
                        break;
                    case JsonValueKind.True:
                        text.Append("true");
                        break;
                    case JsonValueKind.False:
                        text.Append("false");
                        break;
                    default:
                        text.Append(IsInteger(v, out var integer) ? integer.ToString(CultureInfo.InvariantCulture) : JsonFloat(ToDouble(v)));
                        break;
                }

                break;
        }
    }

    private static void AppendJsonString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => text.Append("\\\""),
                '\\' => text.Append("\\\\"),
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                '\b' => text.Append("\\b"),
                '\f' => text.Append("\\f"),
                < ' ' or '<' or '>' or '&' or '\u2028' or '\u2029' => text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => text.Append(c),
            };
        }

        text.Append('"');
    }

    // encoding/json writes floats in fixed notation between 1e-6 and 1e21, with "e-7" rather than "e-07".
    private static string JsonFloat(double value)
    {
        var (negative, digits, point) = Decompose(value);
        var magnitude = Math.Abs(value);
        var body = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21)
            ? ExponentForm(digits, point - 1, twoDigitExponent: false)
            : FixedForm(digits, point);
        return negative ? "-" + body : body;
    }

    // The shortest digits that read back as the value, and where the decimal point goes (0.0123 → "123", -1).
    private static (bool Negative, string Digits, int Point) Decompose(double value)
    {
        if (value == 0)
        {
            return (double.IsNegative(value), "0", 1);
        }

        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var exponentAt = shortest.IndexOfAny(['E', 'e']);
        var mantissa = exponentAt < 0 ? shortest : shortest[..exponentAt];
        var exponent = exponentAt < 0 ? 0 : int.Parse(shortest[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var integerPart = dot < 0 ? mantissa : mantissa[..dot];
        var fraction = dot < 0 ? "" : mantissa[(dot + 1)..];
        var all = integerPart + fraction;
        var leading = all.Length - all.TrimStart('0').Length;
        var digits = all.Trim('0');
        return (double.IsNegative(value), digits.Length == 0 ? "0" : digits, integerPart.Length - leading + exponent);
    }

    private static string FixedForm(string digits, int point)
    {
        if (point <= 0)
        {
            return "0." + new string('0', -point) + digits;
        }

        return point >= digits.Length ? digits + new string('0', point - digits.Length) : digits[..point] + "." + digits[point..];
    }

    private static string ExponentForm(string digits, int exponent, bool twoDigitExponent)
    {
        var mantissa = digits.Length == 1 ? digits : digits[..1] + "." + digits[1..];
        var magnitude = Math.Abs(exponent).ToString(twoDigitExponent ? "00" : "0", CultureInfo.InvariantCulture);
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + magnitude;
    }
}
