using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Applies the defaults of a structural schema as apiextensions does when it decodes a custom object: first the
/// nulls of non-nullable fields without a default are dropped (<c>PruneNonNullableNullsWithoutDefaults</c>), then
/// every absent property with a default, and every null of a non-nullable field with one, gets a deep copy of that
/// default (<c>structuraldefaulting.Default</c>), inside objects, list items and additional properties, including
/// inside the defaults just set.
/// </summary>
internal static class SchemaDefaulting
{
    /// <summary>Defaults the custom object <paramref name="obj"/> in place.</summary>
    public static void ApplyDefaults(JsonNode obj, JsonObject schema)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(schema);
        var root = SchemaNode.Of(schema);
        DropNulls(obj, root);
        Default(obj, root);
    }

    private static void DropNulls(JsonNode? value, SchemaNode? schema)
    {
        switch (value)
        {
            case JsonObject obj:
                foreach (var (key, member) in obj.ToList())
                {
                    var memberSchema = schema?.Member(key);
                    if (member is null && memberSchema is { Nullable: false, Default: null })
                    {
                        obj.Remove(key);
                    }
                    else
                    {
                        DropNulls(member, memberSchema);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    DropNulls(item, schema?.Items);
                }

                break;
        }
    }

    private static void Default(JsonNode? value, SchemaNode? schema)
    {
        if (schema is null)
        {
            return;
        }

        switch (value)
        {
            case JsonObject obj:
                foreach (var (name, property) in schema.Properties)
                {
                    if (property.Default is { } defaultValue && (!obj.TryGetPropertyValue(name, out var current) || (current is null && !property.Nullable)))
                    {
                        obj[name] = defaultValue.DeepClone();
                    }
                }

                foreach (var (key, member) in obj.ToList())
                {
                    if (schema.Property(key) is { } property)
                    {
                        Default(member, property);
                    }
                    else if (schema.AdditionalProperties is { } additional)
                    {
                        if (member is null && additional is { Nullable: false, Default: { } defaultValue })
                        {
                            obj[key] = defaultValue.DeepClone();
                        }

                        Default(obj[key], additional);
                    }
                }

                break;
            case JsonArray array when schema.Items is { } items:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is null && items is { Nullable: false, Default: { } defaultValue })
                    {
                        array[i] = defaultValue.DeepClone();
                    }

                    Default(array[i], items);
                }

                break;
        }
    }
}
