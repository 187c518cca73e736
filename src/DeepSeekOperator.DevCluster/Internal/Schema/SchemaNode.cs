using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// One node of an <c>openAPIV3Schema</c>, read once into typed fields so that objects are validated, pruned and
/// defaulted without re-reading the schema JSON. The tree is cached per schema object, which must not change afterwards.
/// Keywords of the wrong JSON type are read as absent: <see cref="StructuralSchema.CheckStructural"/> reports them.
/// </summary>
internal sealed class SchemaNode
{
    private static readonly ConditionalWeakTable<JsonObject, SchemaNode> Cache = [];

    private readonly Dictionary<string, SchemaNode> propertiesByName;

    private SchemaNode(JsonObject source)
    {
        Source = source;
        Type = Json.String(source["type"]) is { Length: > 0 } type ? type : null;
        Nullable = Flag(source, "nullable");
        IntOrString = Flag(source, "x-kubernetes-int-or-string");
        PreserveUnknownFields = Flag(source, "x-kubernetes-preserve-unknown-fields");
        EmbeddedResource = Flag(source, "x-kubernetes-embedded-resource");
        Types = IntOrString ? ["integer", "string"] : Type is null ? [] : [Type];
        Format = StringFormats.Supported(Json.String(source["format"]));
        Maximum = Number(source, "maximum");
        Minimum = Number(source, "minimum");
        MultipleOf = Number(source, "multipleOf");
        ExclusiveMaximum = Flag(source, "exclusiveMaximum");
        ExclusiveMinimum = Flag(source, "exclusiveMinimum");
        MaxLength = Integer(source, "maxLength");
        MinLength = Integer(source, "minLength");
        MaxItems = Integer(source, "maxItems");
        MinItems = Integer(source, "minItems");
        MaxProperties = Integer(source, "maxProperties");
        MinProperties = Integer(source, "minProperties");
        Pattern = Json.String(source["pattern"]) is { Length: > 0 } pattern ? pattern : null;
        PatternRegex = Pattern is null ? null : GoRegex.TryCompile(Pattern, out _);
        Required = Strings(source["required"]);
        Enum = source["enum"] is JsonArray values ? [.. values.Select(v => v?.DeepClone())] : null;
        AllOf = Children(source["allOf"]);
        AnyOf = Children(source["anyOf"]);
        OneOf = Children(source["oneOf"]);
        Not = source["not"] is JsonObject not ? new SchemaNode(not) : null;
        Properties = source["properties"] is JsonObject properties
            ? [.. properties.Where(p => p.Value is JsonObject).Select(p => KeyValuePair.Create(p.Key, new SchemaNode((JsonObject)p.Value!)))]
            : [];
        propertiesByName = new Dictionary<string, SchemaNode>(Properties, StringComparer.Ordinal);
        switch (source["additionalProperties"])
        {
            case JsonObject additional:
                AdditionalProperties = new SchemaNode(additional);
                break;
            case JsonValue allows when allows.GetValueKind() == JsonValueKind.False:
                AdditionalPropertiesForbidden = true;
                break;
        }

        Items = source["items"] is JsonObject items ? new SchemaNode(items) : null;
        Default = source["default"]?.DeepClone();
        ListType = Json.String(source["x-kubernetes-list-type"]);
        ListMapKeys = Strings(source["x-kubernetes-list-map-keys"]);
        MapType = Json.String(source["x-kubernetes-map-type"]);
        var rules = source["x-kubernetes-validations"] as JsonArray;
        HasRules = rules is { Count: > 0 };
        HasTransitionRules = rules?.Any(r => r is JsonObject rule && RuleText.UsesOldSelf(Json.String(rule["rule"]) ?? string.Empty)) == true;
        SubtreeHasRules = HasRules || Properties.Any(p => p.Value.SubtreeHasRules) ||
                          AdditionalProperties?.SubtreeHasRules == true || Items?.SubtreeHasRules == true;
        SubtreeHasListTypes = ListType is "set" or "map" || Properties.Any(p => p.Value.SubtreeHasListTypes) ||
                              AdditionalProperties?.SubtreeHasListTypes == true || Items?.SubtreeHasListTypes == true;
        SubtreeHasEmbeddedResources = EmbeddedResource || Properties.Any(p => p.Value.SubtreeHasEmbeddedResources) ||
                                      AdditionalProperties?.SubtreeHasEmbeddedResources == true || Items?.SubtreeHasEmbeddedResources == true;
    }

    /// <summary>The schema JSON this node was read from.</summary>
    public JsonObject Source { get; }

    /// <summary>The declared <c>type</c>; null when empty.</summary>
    public string? Type { get; }

    /// <summary>The types a value may have: the declared one, <c>integer</c> and <c>string</c> for int-or-string, none when untyped.</summary>
    public IReadOnlyList<string> Types { get; }

    public bool Nullable { get; }

    public bool IntOrString { get; }

    public bool PreserveUnknownFields { get; }

    public bool EmbeddedResource { get; }

    /// <summary>The <c>format</c>, kept only when Kubernetes supports it (others are stripped before validation).</summary>
    public string? Format { get; }

    public double? Maximum { get; }

    public double? Minimum { get; }

    public double? MultipleOf { get; }

    public bool ExclusiveMaximum { get; }

    public bool ExclusiveMinimum { get; }

    public long? MaxLength { get; }

    public long? MinLength { get; }

    public long? MaxItems { get; }

    public long? MinItems { get; }

    public long? MaxProperties { get; }

    public long? MinProperties { get; }

    public string? Pattern { get; }

    /// <summary>The compiled <see cref="Pattern"/>; null when it does not compile.</summary>
    public Regex? PatternRegex { get; }

    public IReadOnlyList<string> Required { get; }

    /// <summary>The <c>enum</c> values; null when the keyword is absent.</summary>
    public IReadOnlyList<JsonNode?>? Enum { get; }

    public IReadOnlyList<SchemaNode> AllOf { get; }

    public IReadOnlyList<SchemaNode> AnyOf { get; }

    public IReadOnlyList<SchemaNode> OneOf { get; }

    public SchemaNode? Not { get; }

    /// <summary>The <c>properties</c> in the order the schema lists them.</summary>
    public IReadOnlyList<KeyValuePair<string, SchemaNode>> Properties { get; }

    /// <summary>The schema of <c>additionalProperties</c> when it is one.</summary>
    public SchemaNode? AdditionalProperties { get; }

    /// <summary>Whether <c>additionalProperties: false</c>.</summary>
    public bool AdditionalPropertiesForbidden { get; }

    public SchemaNode? Items { get; }

    /// <summary>The <c>default</c>, or null when absent (a <c>null</c> default is no default, as in Kubernetes).</summary>
    public JsonNode? Default { get; }

    public string? ListType { get; }

    public IReadOnlyList<string> ListMapKeys { get; }

    public string? MapType { get; }

    /// <summary>Whether the node has <c>x-kubernetes-validations</c> rules.</summary>
    public bool HasRules { get; }

    /// <summary>Whether one of its rules uses <c>oldSelf</c>; such rules are never ratcheted.</summary>
    public bool HasTransitionRules { get; }

    /// <summary>Whether this node or one below it (through properties, additionalProperties, items) has rules.</summary>
    public bool SubtreeHasRules { get; }

    /// <summary>Whether this node or one below it is a <c>set</c> or <c>map</c> list.</summary>
    public bool SubtreeHasListTypes { get; }

    /// <summary>Whether this node or one below it is an embedded resource.</summary>
    public bool SubtreeHasEmbeddedResources { get; }

    /// <summary>Whether the old and new values of its members correlate (a granular map, the default).</summary>
    public bool MapIsCorrelatable => MapType is null or "granular";

    /// <summary>The compiled tree of a schema, built once and cached for as long as the schema object lives.</summary>
    public static SchemaNode Of(JsonObject schema) => Cache.GetValue(schema, s => new SchemaNode(s));

    /// <summary>The schema of a named property, or null.</summary>
    public SchemaNode? Property(string name) => propertiesByName.GetValueOrDefault(name);

    /// <summary>The schema that applies to a member of an object: its property, else <c>additionalProperties</c>.</summary>
    public SchemaNode? Member(string name) => Property(name) ?? AdditionalProperties;

    private static bool Flag(JsonObject source, string name) =>
        source[name] is JsonValue value && value.GetValueKind() == JsonValueKind.True;

    private static double? Number(JsonObject source, string name) =>
        source[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? JsonValues.ReadNumber(value).AsDouble : null;

    private static long? Integer(JsonObject source, string name) =>
        source[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number && JsonValues.ReadNumber(value) is { IsInteger: true } number
            ? number.Integer
            : null;

    private static string[] Strings(JsonNode? node) =>
        node is JsonArray array ? [.. array.Select(Json.String).OfType<string>()] : [];

    private static SchemaNode[] Children(JsonNode? node) =>
        node is JsonArray array ? [.. array.OfType<JsonObject>().Select(s => new SchemaNode(s))] : [];
}
