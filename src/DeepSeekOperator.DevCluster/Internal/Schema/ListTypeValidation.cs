using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// The invariants of <c>x-kubernetes-list-type</c> lists, as apiextensions' <c>listtype.ValidateListSetsAndMaps</c>
/// checks them: a <c>set</c> holds no value twice, a <c>map</c> holds objects with no two sharing their keys. Each value
/// seen again is reported once, at its second appearance.
/// </summary>
internal static class ListTypeValidation
{
    /// <summary>Checks every set and map list of an object.</summary>
    public static void Validate(SchemaNode schema, JsonNode? value, List<FieldError> errors)
    {
        if (schema.SubtreeHasListTypes && value is JsonObject obj)
        {
            Members(schema, obj, string.Empty, errors);
        }
    }

    private static void Members(SchemaNode s, JsonObject obj, string path, List<FieldError> errors)
    {
        if (s.AdditionalProperties is { } additional)
        {
            foreach (var (key, member) in obj)
            {
                Node(additional, member, FieldPath.Key(path, key), errors);
            }
        }

        foreach (var (key, member) in obj)
        {
            if (s.Property(key) is { } property)
            {
                Node(property, member, FieldPath.Child(path, key), errors);
            }
        }
    }

    private static void Node(SchemaNode s, JsonNode? value, string path, List<FieldError> errors)
    {
        if (!s.SubtreeHasListTypes)
        {
            return;
        }

        switch (value)
        {
            case JsonObject obj:
                Members(s, obj, path, errors);
                break;
            case JsonArray array:
                if (s.ListType == "set")
                {
                    foreach (var i in NonUnique([.. array]))
                    {
                        errors.Add(new FieldError(FieldErrorType.Duplicate, FieldPath.Index(path, i), GoText.Value(array[i]), string.Empty));
                    }
                }
                else if (s.ListType == "map")
                {
                    MapList(s, array, path, errors);
                }

                if (s.Items is { } items)
                {
                    for (var i = 0; i < array.Count; i++)
                    {
                        Node(items, array[i], FieldPath.Index(path, i), errors);
                    }
                }

                break;
        }
    }

    private static void MapList(SchemaNode s, JsonArray array, string path, List<FieldError> errors)
    {
        for (var i = 0; i < array.Count; i++)
        {
            if (array[i] is not (null or JsonObject))
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, FieldPath.Index(path, i), GoText.Value(array[i]), "must be an object for an array of list-type map"));
                return;
            }
        }

        if (array.Count <= 1)
        {
            return;
        }

        var keys = array.Select(item =>
        {
            var key = new JsonObject();
            if (item is JsonObject entry)
            {
                foreach (var field in s.ListMapKeys)
                {
                    if (entry.TryGetPropertyValue(field, out var keyValue))
                    {
                        key[field] = keyValue?.DeepClone();
                    }
                }
            }

            return (JsonNode?)key;
        }).ToList();
        foreach (var i in NonUnique(keys))
        {
            errors.Add(new FieldError(FieldErrorType.Duplicate, FieldPath.Index(path, i), GoText.SharpV(keys[i]), string.Empty));
        }
    }

    /// <summary>
    /// The index of the second appearance of every value that appears more than once. As in Go, objects and lists
    /// compare by their JSON, scalars by value and type (an integer never equals a float).
    /// </summary>
    private static List<int> NonUnique(List<JsonNode?> values)
    {
        var result = new List<int>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < values.Count; i++)
        {
            var kind = JsonValues.KindOf(values[i]);
            var key = (kind is JsonKind.Object or JsonKind.Array ? "compound" : kind.ToString()) + ":" + GoText.Marshal(values[i]);
            seen[key] = seen.TryGetValue(key, out var times) ? times + 1 : 1;
            if (times == 1)
            {
                result.Add(i);
            }
        }

        return result;
    }
}
