using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>Reads the parts of an OpenAPI v3 schema node that CEL typing needs, and maps CEL field names to property names.</summary>
internal static class CelSchema
{
    private static readonly HashSet<string> ReservedNames =
    [
        "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import",
        "let", "loop", "package", "namespace", "return", "var", "void", "while",
    ];

    /// <summary>The schema of <c>metadata</c> as CEL sees it at the root of a resource: only <c>name</c> and <c>generateName</c>.</summary>
    public static JsonObject Metadata { get; } = new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["name"] = new JsonObject { ["type"] = "string" },
            ["generateName"] = new JsonObject { ["type"] = "string" },
        },
    };

    /// <summary>True when <paramref name="schema"/> sets the boolean <paramref name="name"/> to true.</summary>
    public static bool Flag(JsonObject? schema, string name) =>
        schema?[name] is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    /// <summary>The string member <paramref name="name"/> of <paramref name="schema"/>, or null.</summary>
    public static string? Text(JsonObject? schema, string name) =>
        schema?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>
    /// The schema of the property a CEL field name refers to: names are escaped in CEL as Kubernetes does
    /// (<c>__dash__</c>, <c>__dot__</c>, <c>__slash__</c>, <c>__underscores__</c>, and <c>__in__</c> for reserved words).
    /// </summary>
    public static JsonObject? Property(JsonObject schema, string celName) =>
        schema["properties"] is JsonObject properties && properties[PropertyName(celName)] is JsonObject property ? property : null;

    /// <summary>The JSON property name a CEL field name stands for.</summary>
    public static string PropertyName(string celName)
    {
        if (celName.Length > 4 && celName.StartsWith("__", StringComparison.Ordinal) && celName.EndsWith("__", StringComparison.Ordinal) &&
            ReservedNames.Contains(celName[2..^2]))
        {
            return celName[2..^2];
        }

        if (!celName.Contains("__", StringComparison.Ordinal))
        {
            return celName;
        }

        return celName
            .Replace("__underscores__", "\u0000", StringComparison.Ordinal)
            .Replace("__dot__", ".", StringComparison.Ordinal)
            .Replace("__dash__", "-", StringComparison.Ordinal)
            .Replace("__slash__", "/", StringComparison.Ordinal)
            .Replace("\u0000", "__", StringComparison.Ordinal);
    }
}
