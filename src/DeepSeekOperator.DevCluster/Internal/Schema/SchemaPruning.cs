using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Drops the fields a structural schema does not specify, as apiextensions' <c>pruning.PruneWithOptions</c> does:
/// <c>x-kubernetes-preserve-unknown-fields</c> keeps unknown members (while pruning inside the known ones), and the
/// <c>apiVersion</c>, <c>kind</c> and <c>metadata</c> of the object and of every embedded resource are left alone.
/// </summary>
internal static class SchemaPruning
{
    /// <summary>
    /// Prunes the custom object <paramref name="obj"/> in place and returns the paths it removed, sorted, in
    /// Kubernetes' form: <c>spec.foo</c>, <c>spec.items[0].bar</c> (what <c>fieldValidation=Strict</c> reports as
    /// <c>unknown field "spec.foo"</c> and <c>Warn</c> as a warning).
    /// </summary>
    public static IReadOnlyList<string> Prune(JsonNode obj, JsonObject schema)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(schema);
        var pruned = new List<string>();
        Prune(obj, SchemaNode.Of(schema), isResourceRoot: true, string.Empty, pruned);
        pruned.Sort(StringComparer.Ordinal);
        return pruned;
    }

    /// <summary>Prunes a value against one schema node; the root of a resource keeps its type and object metadata.</summary>
    public static void Prune(JsonNode? value, SchemaNode? schema, bool isResourceRoot, string path, List<string> pruned)
    {
        if (schema is { PreserveUnknownFields: true })
        {
            SkipPrune(value, schema, isResourceRoot || schema.EmbeddedResource, path, pruned);
            return;
        }

        switch (value)
        {
            case JsonObject obj:
                var keepMeta = isResourceRoot || schema?.EmbeddedResource == true;
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (keepMeta && IsMetaField(key))
                    {
                        continue;
                    }

                    var member = schema?.Member(key);
                    if (member is not null)
                    {
                        Prune(obj[key], member, false, FieldPath.Child(path, key), pruned);
                    }
                    else
                    {
                        if (!IsMetaField(key) || path.Length > 0)
                        {
                            pruned.Add(FieldPath.Child(path, key));
                        }

                        obj.Remove(key);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Prune(array[i], schema?.Items, false, FieldPath.Index(path, i), pruned);
                }

                break;
        }
    }

    private static void SkipPrune(JsonNode? value, SchemaNode schema, bool keepMeta, string path, List<string> pruned)
    {
        switch (value)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (keepMeta && IsMetaField(key))
                    {
                        continue;
                    }

                    if (schema.Member(key) is { } member)
                    {
                        Prune(obj[key], member, false, FieldPath.Child(path, key), pruned);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Prune(array[i], schema.Items, false, FieldPath.Index(path, i), pruned);
                }

                break;
        }
    }

    private static bool IsMetaField(string key) => key is "apiVersion" or "kind" or "metadata";
}
