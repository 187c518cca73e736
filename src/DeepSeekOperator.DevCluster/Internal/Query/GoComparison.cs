using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// The comparisons of Go's <c>text/template</c> (client-go's fork) that JSONPath filters use: values compare only within
/// one basic kind (bool, integer, float, string), anything else is an error.
/// </summary>
internal static class GoComparison
{
    private const string BadComparisonType = "invalid type for comparison";
    private const string BadComparison = "incompatible types for comparison";

    /// <summary>Applies a filter operator (<c>==</c>, <c>!=</c>, <c>&lt;</c>, <c>&gt;</c>, <c>&lt;=</c>, <c>&gt;=</c>); returns the error message, if any.</summary>
    public static string? Compare(string op, JsonNode? left, JsonNode? right, out bool pass)
    {
        pass = false;
        string? error;
        bool result;
        switch (op)
        {
            case "==":
                error = Equal(left, right, out pass);
                return error;
            case "!=":
                error = Equal(left, right, out result);
                pass = !result;
                return error;
            case "<":
                return Less(left, right, out pass);
            case "<=":
                return LessEqual(left, right, out pass);
            case ">":
                error = LessEqual(left, right, out result);
                pass = error is null && !result;
                return error;
            case ">=":
                error = Less(left, right, out result);
                pass = error is null && !result;
                return error;
            default:
                return "unrecognized filter operator " + op;
        }
    }

    private static string? Equal(JsonNode? left, JsonNode? right, out bool equal)
    {
        equal = false;
        if (ComparableKind(left, right, out var kind) is { } error)
        {
            return error;
        }

        equal = kind switch
        {
            JsonKind.Boolean => left!.GetValue<bool>() == right!.GetValue<bool>(),
            JsonKind.Integer => Integer(left) == Integer(right),
            JsonKind.Number => Float(left) == Float(right),
            _ => string.Equals(left!.GetValue<string>(), right!.GetValue<string>(), StringComparison.Ordinal),
        };
        return null;
    }

    private static string? Less(JsonNode? left, JsonNode? right, out bool less)
    {
        less = false;
        if (ComparableKind(left, right, out var kind) is { } error)
        {
            return error;
        }

        switch (kind)
        {
            case JsonKind.Boolean:
                return BadComparisonType;
            case JsonKind.Integer:
                less = Integer(left) < Integer(right);
                return null;
            case JsonKind.Number:
                less = Float(left) < Float(right);
                return null;
            default:
                less = string.CompareOrdinal(left!.GetValue<string>(), right!.GetValue<string>()) < 0;
                return null;
        }
    }

    private static string? LessEqual(JsonNode? left, JsonNode? right, out bool lessOrEqual)
    {
        var error = Less(left, right, out lessOrEqual);
        return lessOrEqual || error is not null ? error : Equal(left, right, out lessOrEqual);
    }

    private static long Integer(JsonNode? node) => JsonValues.ReadNumber((JsonValue)node!).Integer;

    private static double Float(JsonNode? node) => JsonValues.ReadNumber((JsonValue)node!).Float;

    // Both values must be of one basic kind: bool, int64, float64 or string.
    private static string? ComparableKind(JsonNode? left, JsonNode? right, out JsonKind kind)
    {
        kind = JsonValues.KindOf(left);
        var other = JsonValues.KindOf(right);
        if (!IsBasic(kind) || !IsBasic(other))
        {
            return BadComparisonType;
        }

        return kind != other ? BadComparison : null;

        static bool IsBasic(JsonKind basic) => basic is JsonKind.Boolean or JsonKind.Integer or JsonKind.Number or JsonKind.String;
    }
}
