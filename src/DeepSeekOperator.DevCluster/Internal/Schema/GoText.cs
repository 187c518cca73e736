using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Renders JSON values as Go's <c>fmt</c> does in the messages of kube-openapi and apimachinery, so that
/// messages read exactly as kube-apiserver writes them: <c>%v</c> of a float64 is <c>1000</c>, <c>0.9</c> or <c>1e+21</c>,
/// and <c>%#v</c> of a map is <c>map[string]interface {}{"type":"Ready"}</c>.
/// </summary>
internal static class GoText
{
    /// <summary>A float64 as Go's <c>%v</c> prints it: the shortest form, with an exponent below 1e-4 or from 1e21.</summary>
    public static string Float(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        if (value == 0)
        {
            return double.IsNegative(value) ? "-0" : "0";
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        var sign = string.Empty;
        if (text[0] == '-')
        {
            sign = "-";
            text = text[1..];
        }

        var exponent = 0;
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            exponent = int.Parse(text.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var digits = dot < 0 ? text : text.Remove(dot, 1);
        var point = (dot < 0 ? text.Length : dot) + exponent;
        while (digits.Length > 1 && digits[0] == '0')
        {
            digits = digits[1..];
            point--;
        }

        digits = digits.TrimEnd('0');
        var decimalExponent = point - 1;
        if (decimalExponent is < -4 or >= 21)
        {
            var mantissa = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
            return string.Create(CultureInfo.InvariantCulture, $"{sign}{mantissa}e{(decimalExponent < 0 ? '-' : '+')}{Math.Abs(decimalExponent):00}");
        }

        if (point <= 0)
        {
            return sign + "0." + new string('0', -point) + digits;
        }

        return point >= digits.Length
            ? sign + digits + new string('0', point - digits.Length)
            : sign + digits[..point] + "." + digits[point..];
    }

    /// <summary>
    /// The bad value of a <c>field.Error</c> as its <c>ErrorBody</c> prints it: strings quoted, numbers and booleans bare,
    /// <c>"null"</c> for nothing, and Go's <c>%#v</c> for maps and slices.
    /// </summary>
    public static string Value(JsonNode? value) => value switch
    {
        null => FieldError.Quote("null"),
        JsonObject or JsonArray => SharpV(value),
        _ => Scalar(value.AsValue(), quoteStrings: true),
    };

    /// <summary>Go's <c>%#v</c> of a decoded JSON value.</summary>
    public static string SharpV(JsonNode? value)
    {
        var text = new StringBuilder();
        AppendSharpV(text, value, nested: false);
        return text.ToString();
    }

    /// <summary>Go's <c>%#v</c> of a string slice: <c>[]string{"a", "b"}</c>.</summary>
    public static string StringSlice(IEnumerable<string> values) => "[]string{" + string.Join(", ", values.Select(FieldError.Quote)) + "}";

    /// <summary>JSON as Go's <c>encoding/json</c> marshals a decoded value: compact, object keys sorted.</summary>
    public static string Marshal(JsonNode? value)
    {
        var text = new StringBuilder();
        AppendMarshal(text, value);
        return text.ToString();
    }

    private static string Scalar(JsonValue value, bool quoteStrings)
    {
        var kind = JsonValues.KindOf(value);
        return kind switch
        {
            JsonKind.String => quoteStrings ? FieldError.Quote(value.GetValue<string>()) : value.GetValue<string>(),
            JsonKind.Boolean => Json.Bool(value) == true ? "true" : "false",
            JsonKind.Integer or JsonKind.Number => FormatNumber(JsonValues.ReadNumber(value)),
            _ => value.ToJsonString(),
        };
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
                    text.Append(first ? string.Empty : ", ").Append(FieldError.Quote(key)).Append(':');
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
                text.Append(Scalar(value.AsValue(), quoteStrings: true));
                break;
        }
    }

    private static void AppendMarshal(StringBuilder text, JsonNode? value)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                text.Append('{');
                var first = true;
                foreach (var (key, member) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    text.Append(first ? string.Empty : ",").Append(JsonValue.Create(key).ToJsonString()).Append(':');
                    AppendMarshal(text, member);
                    first = false;
                }

                text.Append('}');
                break;
            case JsonArray array:
                text.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    text.Append(i == 0 ? string.Empty : ",");
                    AppendMarshal(text, array[i]);
                }

                text.Append(']');
                break;
            default:
                var scalar = value.AsValue();
                text.Append(JsonValues.KindOf(scalar) is JsonKind.Integer or JsonKind.Number
                    ? FormatNumber(JsonValues.ReadNumber(scalar))
                    : scalar.ToJsonString());
                break;
        }
    }

    private static string FormatNumber(GoNumber number) =>
        number.IsInteger ? number.Integer.ToString(CultureInfo.InvariantCulture) : Float(number.Float);
}
