using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// The <see cref="IFieldSchema"/> of a custom resource, read from one CRD version's <c>openAPIV3Schema</c>:
/// <c>x-kubernetes-list-type</c> (lists are atomic unless it says <c>set</c> or <c>map</c>),
/// <c>x-kubernetes-list-map-keys</c>, <c>x-kubernetes-map-type: atomic</c>, <c>properties</c> as declared fields,
/// <c>additionalProperties</c> for free-form maps, and anything undescribed (under
/// <c>x-kubernetes-preserve-unknown-fields</c>) deduced. <c>metadata</c> follows ObjectMeta as for built-in kinds.
/// </summary>
internal sealed class CrdSchema : IFieldSchema
{
    private readonly JsonObject node;

    private CrdSchema(JsonObject node)
    {
        this.node = node;
    }

    public ListType ListType => Json.String(node["x-kubernetes-list-type"]) switch
    {
        "set" => ListType.Set,
        "map" => ListType.Map,
        _ => ListType.Atomic,
    };

    public IReadOnlyList<string> ListMapKeys =>
        node["x-kubernetes-list-map-keys"] is JsonArray keys ? [.. keys.Select(Json.String).OfType<string>()] : [];

    public bool IsAtomicMap => Json.String(node["x-kubernetes-map-type"]) == "atomic";

    public IFieldSchema Items => Of(node["items"]);

    /// <summary>The schema of a whole custom object from its version's <c>openAPIV3Schema</c>.</summary>
    public static IFieldSchema ForVersion(JsonObject openApiV3Schema) => new Root(new CrdSchema(openApiV3Schema));

    public IFieldSchema Field(string name)
    {
        if (node["properties"] is JsonObject properties && properties[name] is JsonObject property)
        {
            return new CrdSchema(property);
        }

        return Of(node["additionalProperties"]);
    }

    public bool IsNamedField(string name) => node["properties"] is JsonObject properties && properties.ContainsKey(name);

    public JsonNode? ListMapKeyDefault(string key) =>
        Items is CrdSchema items ? JsonValues.Clone(items.node["properties"]?[key]?["default"]) : null;

    private static IFieldSchema Of(JsonNode? schema) => schema is JsonObject o ? new CrdSchema(o) : DeducedSchema.Instance;

    /// <summary>The top of a custom object: <c>metadata</c> is ObjectMeta whatever the CRD's schema says of it.</summary>
    private sealed class Root(CrdSchema schema) : IFieldSchema
    {
        public ListType ListType => ListType.Atomic;

        public IReadOnlyList<string> ListMapKeys => [];

        public bool IsAtomicMap => false;

        public IFieldSchema Items => DeducedSchema.Instance;

        public IFieldSchema Field(string name) => name == "metadata" ? BuiltInSchema.ObjectMeta : schema.Field(name);

        public bool IsNamedField(string name) => name is "apiVersion" or "kind" or "metadata" || schema.IsNamedField(name);

        public JsonNode? ListMapKeyDefault(string key) => null;
    }
}
