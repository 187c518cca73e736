using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>The JSON types as kube-openapi tells them apart: a number is an integer when its text parses as an int64.</summary>
internal enum JsonKind
{
    Null,
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

/// <summary>A JSON number as Kubernetes decodes it: an int64 when its text is one, else a float64.</summary>
internal readonly record struct GoNumber(bool IsInteger, long Integer, double Float)
{
    /// <summary>The value as float64, as kube-openapi's <c>asFloat64</c> converts it.</summary>
    public double AsDouble => IsInteger ? Integer : Float;
}

/// <summary>Reads JSON values with the types Kubernetes' unstructured decoding gives them (int64, float64, string, bool, map, slice).</summary>
internal static class JsonValues
{
    /// <summary>The decoded kind of a value.</summary>
    public static JsonKind KindOf(JsonNode? node) => node switch
    {
        null => JsonKind.Null,
        JsonObject => JsonKind.Object,
        JsonArray => JsonKind.Array,
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => JsonKind.String,
            JsonValueKind.True or JsonValueKind.False => JsonKind.Boolean,
            JsonValueKind.Number => ReadNumber(value).IsInteger ? JsonKind.Integer : JsonKind.Number,
            _ => JsonKind.Null,
        },
        _ => JsonKind.Null,
    };

    /// <summary>The JSON-schema type name of a kind, as kube-openapi's type validator names the type it found.</summary>
    public static string TypeName(JsonKind kind) => kind switch
    {
        JsonKind.Null => "null",
        JsonKind.String => "string",
        JsonKind.Integer => "integer",
        JsonKind.Number => "number",
        JsonKind.Boolean => "boolean",
        JsonKind.Array => "array",
        _ => "object",
    };

    /// <summary>Whether a boolean value is true.</summary>
    public static bool IsTrue(JsonValue value) => value.GetValueKind() == JsonValueKind.True;

    /// <summary>The string of a string value; null for any other kind.</summary>
    public static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>Reads a number the way Go's JSON decoding into unstructured content does: int64 when the text parses as one.</summary>
    public static GoNumber ReadNumber(JsonValue value)
    {
        if (value.TryGetValue<long>(out var integer))
        {
            return new GoNumber(true, integer, integer);
        }

        if (value.TryGetValue<int>(out var small))
        {
            return new GoNumber(true, small, small);
        }

        if (value.TryGetValue<JsonElement>(out var element))
        {
            return element.TryGetInt64(out integer) ? new GoNumber(true, integer, integer) : new GoNumber(false, 0, element.GetDouble());
        }

        var text = value.ToJsonString();
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out integer)
            ? new GoNumber(true, integer, integer)
            : new GoNumber(false, 0, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    /// <summary>A number as Go's <c>%v</c> prints an int64 or a float64.</summary>
    public static string FormatNumber(GoNumber number) =>
        number.IsInteger ? number.Integer.ToString(CultureInfo.InvariantCulture) : GoText.Float(number.Float);

    /// <summary>
    /// Go's <c>reflect.DeepEqual</c> of two decoded JSON values: an int64 never equals a float64, objects compare by
    /// their members whatever their order.
    /// </summary>
    public static bool GoEquals(JsonNode? a, JsonNode? b)
    {
        switch (a)
        {
            case null:
                return b is null;
            case JsonObject left:
                if (b is not JsonObject right || left.Count != right.Count)
                {
                    return false;
                }

                foreach (var (key, value) in left)
                {
                    if (!right.TryGetPropertyValue(key, out var other) || !GoEquals(value, other))
                    {
                        return false;
                    }
                }

                return true;
            case JsonArray leftArray:
                if (b is not JsonArray rightArray || leftArray.Count != rightArray.Count)
                {
                    return false;
                }

                for (var i = 0; i < leftArray.Count; i++)
                {
                    if (!GoEquals(leftArray[i], rightArray[i]))
                    {
                        return false;
                    }
                }

                return true;
            default:
                if (b is not JsonValue otherValue)
                {
                    return false;
                }

                var kind = KindOf(a);
                if (kind != KindOf(b))
                {
                    return false;
                }

                return kind switch
                {
                    JsonKind.String => string.Equals(StringOf(a), StringOf(b), StringComparison.Ordinal),
                    JsonKind.Boolean => IsTrue(a.AsValue()) == IsTrue(otherValue),
                    JsonKind.Integer => ReadNumber(a.AsValue()).Integer == ReadNumber(otherValue).Integer,
                    JsonKind.Number => ReadNumber(a.AsValue()).Float.Equals(ReadNumber(otherValue).Float),
                    _ => true,
                };
        }
    }

    /// <summary>
    /// Whether a float64 holds an integer, as go-openapi's <c>swag.IsFloat64AJSONInteger</c> decides
    /// (within ±2^53 and within 1e-9 of a whole number).
    /// </summary>
    public static bool IsJsonInteger(double value)
    {
        const double maxJsonFloat = 9007199254740992; // 2^53
        if (double.IsNaN(value) || double.IsInfinity(value) || value < -maxJsonFloat || value > maxJsonFloat)
        {
            return false;
        }

        return Math.Abs(value - Math.Round(value)) < 1e-9;
    }
}
