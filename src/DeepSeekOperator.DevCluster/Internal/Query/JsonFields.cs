using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// Typed reads of nested fields of an object, reading a missing or mistyped field as Go's zero value the way the printers
/// and field sets see a decoded object.
/// </summary>
internal static class JsonFields
{
    /// <summary>The node at <paramref name="path"/> (property names), or null when any step is missing.</summary>
    public static JsonNode? At(JsonNode? node, params ReadOnlySpan<string> path)
    {
        foreach (var name in path)
        {
            node = node is JsonObject o && o.TryGetPropertyValue(name, out var child) ? child : null;
        }

        return node;
    }

    /// <summary>The string at <paramref name="path"/>, or "" when it is missing or not a string.</summary>
    public static string String(JsonNode? node, params ReadOnlySpan<string> path) =>
        At(node, path) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "";

    /// <summary>The string at <paramref name="path"/>, or null when it is missing or not a string (Go's <c>*string</c>).</summary>
    public static string? OptionalString(JsonNode? node, params ReadOnlySpan<string> path) =>
        At(node, path) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>The integer at <paramref name="path"/>, or null when it is missing or not an integer (Go's <c>*int32</c>).</summary>
    public static long? OptionalInteger(JsonNode? node, params ReadOnlySpan<string> path) =>
        At(node, path) is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            && long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>The integer at <paramref name="path"/>, or 0.</summary>
    public static long Integer(JsonNode? node, params ReadOnlySpan<string> path) => OptionalInteger(node, path) ?? 0;

    /// <summary>The boolean at <paramref name="path"/>, or null when it is missing or not a boolean.</summary>
    public static bool? OptionalBoolean(JsonNode? node, params ReadOnlySpan<string> path) =>
        At(node, path) is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    /// <summary>The object at <paramref name="path"/>, or null.</summary>
    public static JsonObject? Object(JsonNode? node, params ReadOnlySpan<string> path) => At(node, path) as JsonObject;

    /// <summary>The elements of the array at <paramref name="path"/> (none when it is missing).</summary>
    public static IReadOnlyList<JsonNode?> Array(JsonNode? node, params ReadOnlySpan<string> path) =>
        At(node, path) is JsonArray a ? [.. a] : [];

    /// <summary>The number of members of the object at <paramref name="path"/> (0 when it is missing).</summary>
    public static int Count(JsonNode? node, params ReadOnlySpan<string> path) => At(node, path) switch
    {
        JsonObject o => o.Count,
        JsonArray a => a.Count,
        _ => 0,
    };

    /// <summary>
    /// The <c>metav1.Time</c> at <paramref name="path"/>; null when it is missing, empty or unreadable (Go's zero time).
    /// </summary>
    public static DateTimeOffset? Time(JsonNode? node, params ReadOnlySpan<string> path) =>
        ParseTime(String(node, path));

    /// <summary>Reads an RFC 3339 timestamp as <c>metav1.Time</c> does; null for "" (the zero time) or an unreadable one.</summary>
    public static DateTimeOffset? ParseTime(string text) =>
        text.Length > 0 && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : null;
}
