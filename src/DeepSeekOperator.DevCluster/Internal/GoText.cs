using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>
/// Decoded JSON values (<c>map[string]interface{}</c>, <c>[]interface{}</c>, <c>string</c>, <c>int64</c>, <c>float64</c>,
/// <c>bool</c>, nil) written as Go writes them, so that messages read exactly as kube-apiserver's: <c>%q</c>,
/// <c>fmt.Sprint</c> (<c>map[k:v]</c>), <c>%#v</c> (<c>map[string]interface {}{"type":"Ready"}</c>), the bad value of a
/// <c>field.Error</c>, type names and <c>encoding/json.Marshal</c>.
/// </summary>
internal static class GoText
{
    /// <summary>A string in Go's <c>%q</c> form.</summary>
    public static string Quote(string value) => AppendQuoted(new StringBuilder(value.Length + 2), value, json: false, escapeHtml: false).ToString();

    /// <summary>Go's name for the decoded value's type: <c>map[string]interface {}</c>, <c>[]interface {}</c>, <c>string</c>, ….</summary>
    public static string TypeName(JsonNode? node) => JsonValues.KindOf(node) switch
    {
        JsonKind.Null => "interface {}",
        JsonKind.Object => "map[string]interface {}",
        JsonKind.Array => "[]interface {}",
        JsonKind.String => "string",
        JsonKind.Boolean => "bool",
        JsonKind.Integer => "int64",
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

    /// <summary>A float64 in the shortest form that reads back, with an exponent below 1e-4 or from 1e21, as schema messages show it.</summary>
    public static string Float(double value) => Shortest(value, exponentFrom: 21);

    /// <summary>
    /// The bad value of a <c>field.Error</c> as its <c>ErrorBody</c> prints it: strings quoted, numbers and booleans bare,
    /// <c>"null"</c> for nothing, and Go's <c>%#v</c> for maps and slices.
    /// </summary>
    public static string Value(JsonNode? value) => value switch
    {
        null => Quote("null"),
        JsonObject or JsonArray => SharpV(value),
        _ => SharpVScalar(value.AsValue()),
    };

    /// <summary>Go's <c>%#v</c> of a decoded JSON value.</summary>
    public static string SharpV(JsonNode? value)
    {
        var text = new StringBuilder();
        AppendSharpV(text, value, nested: false);
        return text.ToString();
    }

    /// <summary>Go's <c>%#v</c> of a string slice: <c>[]string{"a", "b"}</c>.</summary>
    public static string StringSlice(IEnumerable<string> values) => "[]string{" + string.Join(", ", values.Select(Quote)) + "}";

    /// <summary>
    /// <c>encoding/json.Marshal</c> of a decoded value: compact, keys sorted, HTML characters escaped; without
    /// <paramref name="escapeHtml"/>, <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c>, U+2028 and U+2029 are left as they are, as
    /// <c>encoding/json/v2</c> (which structured-merge-diff writes field paths with) leaves them.
    /// </summary>
    public static string Marshal(JsonNode? node, bool escapeHtml = true)
    {
        var text = new StringBuilder();
        AppendJson(text, node, escapeHtml);
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
                text.Append(JsonValues.KindOf(v) switch
                {
                    JsonKind.String => v.GetValue<string>(),
                    JsonKind.Boolean => Json.Bool(v) == true ? "true" : "false",
                    JsonKind.Integer or JsonKind.Number => Number(v, exponentFrom: 6),
                    _ => "<nil>",
                });
                break;
        }
    }

    private static void AppendSharpV(StringBuilder text, JsonNode? value, bool nested)
    {
        switch (value)
        {
            case null:
                text.Append(nested ? "interface {}(nil)" : "<nil>");
                break;
            case JsonObject obj:
                text.Append("map[string]interface {}{");
                var first = true;
                foreach (var (key, member) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    text.Append(first ? string.Empty : ", ").Append(Quote(key)).Append(':');
                    AppendSharpV(text, member, nested: true);
                    first = false;
                }

                text.Append('}');
                break;
            case JsonArray array:
                text.Append("[]interface {}{");
                for (var i = 0; i < array.Count; i++)
                {
                    text.Append(i == 0 ? string.Empty : ", ");
                    AppendSharpV(text, array[i], nested: true);
                }

                text.Append('}');
                break;
            default:
                text.Append(SharpVScalar(value.AsValue()));
                break;
        }
    }

    private static string SharpVScalar(JsonValue value) => JsonValues.KindOf(value) switch
    {
        JsonKind.String => Quote(value.GetValue<string>()),
        JsonKind.Boolean => Json.Bool(value) == true ? "true" : "false",
        JsonKind.Integer or JsonKind.Number => Number(value, exponentFrom: 21),
        _ => value.ToJsonString(),
    };

    private static void AppendJson(StringBuilder text, JsonNode? node, bool escapeHtml)
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
                    AppendQuoted(text, key, json: true, escapeHtml);
                    text.Append(':');
                    AppendJson(text, value, escapeHtml);
                    first = false;
                }

                text.Append('}');
                break;
            case JsonArray a:
                text.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    text.Append(i == 0 ? "" : ",");
                    AppendJson(text, a[i], escapeHtml);
                }

                text.Append(']');
                break;
            case JsonValue v:
                switch (JsonValues.KindOf(v))
                {
                    case JsonKind.String:
                        AppendQuoted(text, v.GetValue<string>(), json: true, escapeHtml);
                        break;
                    case JsonKind.Boolean:
                        text.Append(Json.Bool(v) == true ? "true" : "false");
                        break;
                    case JsonKind.Integer or JsonKind.Number:
                        var number = JsonValues.ReadNumber(v);
                        text.Append(number.IsInteger ? number.Integer.ToString(CultureInfo.InvariantCulture) : JsonFloat(number.Float));
                        break;
                    default:
                        text.Append("null");
                        break;
                }

                break;
        }
    }

    // Go's %q and encoding/json's string escaping: the same for quotes, backslashes and \n \r \t; %q writes other control
    // characters as \x.., JSON as \u00.. (with \b and \f by name) and, escaping HTML, also < > & U+2028 U+2029.
    private static StringBuilder AppendQuoted(StringBuilder text, string value, bool json, bool escapeHtml)
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
                '\b' when json => text.Append("\\b"),
                '\f' when json => text.Append("\\f"),
                < ' ' when json => text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                '<' or '>' or '&' or '\u2028' or '\u2029' when escapeHtml => text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                < ' ' => text.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => text.Append(c),
            };
        }

        return text.Append('"');
    }

    // An int64 plainly, a float64 as Go's %v prints it, switching to an exponent from 10^exponentFrom.
    private static string Number(JsonValue value, int exponentFrom)
    {
        var number = JsonValues.ReadNumber(value);
        return number.IsInteger ? number.Integer.ToString(CultureInfo.InvariantCulture) : Shortest(number.Float, exponentFrom);
    }

    // A float64 in the shortest digits that read back, in exponent form below 1e-4 and from 10^exponentFrom on (Go's %v: 6, 1e+06).
    private static string Shortest(double value, int exponentFrom)
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
        var body = exponent < -4 || exponent >= exponentFrom ? ExponentForm(digits, exponent, twoDigitExponent: true) : FixedForm(digits, point);
        return negative ? "-" + body : body;
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
