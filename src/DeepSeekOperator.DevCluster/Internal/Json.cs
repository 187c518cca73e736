using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>Typed reads of JSON values, whether they were parsed from a request or set in code.</summary>
internal static class Json
{
    /// <summary>The value as a 64-bit integer; null when it is absent or not an integral number.</summary>
    public static long? Int64(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        if (value.TryGetValue<JsonElement>(out var element))
        {
            return element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var parsed) ? parsed : null;
        }

        return value.TryGetValue<long>(out var l) ? l
            : value.TryGetValue<int>(out var i) ? i
            : value.TryGetValue<double>(out var d) && Math.Floor(d) == d && Math.Abs(d) < 9.2e18 ? (long)d
            : null;
    }

    /// <summary>The value as a boolean; null when it is absent or not a boolean.</summary>
    public static bool? Bool(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? value.GetValueKind() == JsonValueKind.True : null;

    /// <summary>The value as a string; null when it is absent or not a string.</summary>
    public static string? String(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
