using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>Reads keywords of a raw schema object, and names the paths of its parts as apiextensions does.</summary>
internal static class SchemaJson
{
    /// <summary>A string keyword; empty when absent or of another type.</summary>
    public static string Text(JsonObject schema, string keyword) => Json.String(schema[keyword]) ?? string.Empty;

    /// <summary>Whether a boolean keyword is true.</summary>
    public static bool Flag(JsonObject schema, string keyword) => schema[keyword] is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    /// <summary>Whether a keyword is present with a value other than null.</summary>
    public static bool Has(JsonObject schema, string keyword) => schema[keyword] is not null;

    /// <summary>The members of a keyword holding a map of schemas (<c>properties</c>, <c>definitions</c>).</summary>
    public static IEnumerable<KeyValuePair<string, JsonObject>> Map(JsonObject schema, string keyword) =>
        schema[keyword] is JsonObject map
            ? map.Where(p => p.Value is JsonObject).Select(p => KeyValuePair.Create(p.Key, (JsonObject)p.Value!))
            : [];

    /// <summary>The schemas of a keyword holding a list of them (<c>allOf</c>, <c>anyOf</c>, <c>oneOf</c>).</summary>
    public static IReadOnlyList<JsonObject> List(JsonObject schema, string keyword) =>
        schema[keyword] is JsonArray list ? [.. list.OfType<JsonObject>()] : [];

    /// <summary>The strings of a keyword holding a list of them.</summary>
    public static IReadOnlyList<string> Strings(JsonObject schema, string keyword) =>
        schema[keyword] is JsonArray list ? [.. list.Select(Json.String).OfType<string>()] : [];

    /// <summary>A property of a schema, or null.</summary>
    public static JsonObject? Property(JsonObject schema, string name) => (schema["properties"] as JsonObject)?[name] as JsonObject;

    /// <summary>The path of a keyword: <c>…openAPIV3Schema.type</c>.</summary>
    public static string Child(string path, string keyword) => path + "." + keyword;

    /// <summary>The path of a member of a schema map: <c>…properties[spec]</c>.</summary>
    public static string Key(string path, string keyword, string key) => path + "." + keyword + "[" + key + "]";

    /// <summary>The path of an element of a schema list: <c>…allOf[0]</c>.</summary>
    public static string Index(string path, string keyword, int index) =>
        path + "." + keyword + "[" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + "]";
}
