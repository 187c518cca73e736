using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal;

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

/// <summary>
/// Reads, compares and parses JSON values with the types Go's decoding gives them (int64, float64, string, bool, map,
/// slice).
/// </summary>
internal static partial class JsonValues
{
    /// <summary>Serializer options that escape only what JSON requires, closer to what Go writes than the default.</summary>
    public static JsonSerializerOptions Relaxed { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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

    /// <summary>A deep copy that can be attached to another parent.</summary>
    public static JsonNode? Clone(JsonNode? node) => node?.DeepClone();

    /// <summary>Whether a node is absent or JSON <c>null</c>.</summary>
    public static bool IsNull(JsonNode? node) => KindOf(node) == JsonKind.Null;

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

    /// <summary>
    /// Go's <c>reflect.DeepEqual</c> of two values as Kubernetes' unstructured decoding gives them: an int64 never equals
    /// a float64, objects compare by their members whatever their order.
    /// </summary>
    public static bool GoEquals(JsonNode? a, JsonNode? b) => Equal(a, b, numbersAsFloat64: false);

    /// <summary>
    /// Go's <c>reflect.DeepEqual</c> of two values as <c>encoding/json</c> decodes them into <c>interface{}</c>, every number
    /// a float64 (<c>1</c> equals <c>1.0</c>); objects compare by their members whatever their order.
    /// </summary>
    public static bool DeepEquals(JsonNode? a, JsonNode? b) => Equal(a, b, numbersAsFloat64: true);

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
                return ReadNumber(x).AsDouble.CompareTo(ReadNumber(y).AsDouble);
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
                return string.CompareOrdinal(GoText.Marshal(a, escapeHtml: false), GoText.Marshal(b, escapeHtml: false));
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

    private static bool Equal(JsonNode? a, JsonNode? b, bool numbersAsFloat64)
    {
        switch (a, b)
        {
            case (JsonObject x, JsonObject y):
                if (x.Count != y.Count)
                {
                    return false;
                }

                foreach (var (key, value) in x)
                {
                    if (!y.TryGetPropertyValue(key, out var other) || !Equal(value, other, numbersAsFloat64))
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
                    if (!Equal(x[i], y[i], numbersAsFloat64))
                    {
                        return false;
                    }
                }

                return true;
            case (JsonObject or JsonArray, _) or (_, JsonObject or JsonArray):
                return false;
            case (JsonValue x, JsonValue y) when x.TryGetValue<JsonElement>(out var xText) && y.TryGetValue<JsonElement>(out var yText) &&
                JsonMarshal.GetRawUtf8Value(xText).SequenceEqual(JsonMarshal.GetRawUtf8Value(yText)):
                // Parsed values with the same text are the same value, whatever its type.
                return true;
        }

        var (left, right) = (KindOf(a), KindOf(b));
        if (numbersAsFloat64 && left is JsonKind.Integer or JsonKind.Number && right is JsonKind.Integer or JsonKind.Number)
        {
            return ReadNumber(a!.AsValue()).AsDouble == ReadNumber(b!.AsValue()).AsDouble;
        }

        return left == right && left switch
        {
            JsonKind.String => string.Equals(a!.GetValue<string>(), b!.GetValue<string>(), StringComparison.Ordinal),
            JsonKind.Boolean => Json.Bool(a) == Json.Bool(b),
            JsonKind.Integer => ReadNumber(a!.AsValue()).Integer == ReadNumber(b!.AsValue()).Integer,
            JsonKind.Number => ReadNumber(a!.AsValue()).Float.Equals(ReadNumber(b!.AsValue()).Float),
            _ => true,
        };
    }
}
