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

    private enum Kind
    {
        Invalid,
        Bool,
        Integer,
        Float,
        String,
    }

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
        var k1 = KindOf(left);
        var k2 = KindOf(right);
        if (k1 == Kind.Invalid || k2 == Kind.Invalid)
        {
            return BadComparisonType;
        }

        if (k1 != k2)
        {
            return BadComparison;
        }

        equal = k1 switch
        {
            Kind.Bool => left!.GetValue<bool>() == right!.GetValue<bool>(),
            Kind.Integer => Integer(left) == Integer(right),
            Kind.Float => JsonValues.ReadNumber((JsonValue)left!).Float == JsonValues.ReadNumber((JsonValue)right!).Float,
            _ => string.Equals(left!.GetValue<string>(), right!.GetValue<string>(), StringComparison.Ordinal),
        };
        return null;
    }

    private static string? Less(JsonNode? left, JsonNode? right, out bool less)
    {
        less = false;
        var k1 = KindOf(left);
        var k2 = KindOf(right);
        if (k1 == Kind.Invalid || k2 == Kind.Invalid)
        {
            return BadComparisonType;
        }

        if (k1 != k2)
        {
            return BadComparison;
        }

        switch (k1)
        {
            case Kind.Bool:
                return BadComparisonType;
            case Kind.Integer:
                less = Integer(left) < Integer(right);
                return null;
            case Kind.Float:
                less = JsonValues.ReadNumber((JsonValue)left!).Float < JsonValues.ReadNumber((JsonValue)right!).Float;
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

    private static Kind KindOf(JsonNode? node) => JsonValues.KindOf(node) switch
    {
        JsonKind.String => Kind.String,
        JsonKind.Boolean => Kind.Bool,
        JsonKind.Integer => Kind.Integer,
        JsonKind.Number => Kind.Float,
        _ => Kind.Invalid,
    };
}
