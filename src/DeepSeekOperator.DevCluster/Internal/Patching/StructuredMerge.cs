using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>An object that does not fit its schema the way structured-merge-diff requires (a list item without its key).</summary>
internal sealed class StructureException(string message) : Exception(message);

/// <summary>What changed between two versions of an object, as structured-merge-diff's <c>typed.Comparison</c>.</summary>
internal sealed record Comparison(FieldSet Added, FieldSet Modified, FieldSet Removed);

/// <summary>
/// The operations of structured-merge-diff's <c>typed</c> package over JSON objects and an <see cref="IFieldSchema"/>:
/// the set of fields a value sets, the comparison of two values, the merge of an applied configuration into a live
/// object, and the removal of a set of fields.
/// </summary>
internal static class StructuredMerge
{
    /// <summary>
    /// <c>ToFieldSet</c>: every leaf the value sets, every list item of a granular list, every entry of a free-form map,
    /// and every field set to null or to an empty map.
    /// </summary>
    public static FieldSet ToFieldSet(JsonNode value, IFieldSchema schema)
    {
        var set = new FieldSet();
        Walk(value, schema, []);
        return set;

        void Walk(JsonNode? node, IFieldSchema at, List<PathElement> path)
        {
            switch (node)
            {
                case JsonObject map when !at.IsAtomicMap:
                    foreach (var (key, child) in map)
                    {
                        path.Add(PathElement.Field(key));
                        Walk(child, at.Field(key), path);
                        if (JsonValues.IsNull(child) || child is JsonObject { Count: 0 } || !at.IsNamedField(key))
                        {
                            set.Insert(path);
                        }

                        path.RemoveAt(path.Count - 1);
                    }

                    break;
                case JsonArray list when at.ListType != ListType.Atomic:
                    var seen = new HashSet<PathElement>();
                    for (var i = 0; i < list.Count; i++)
                    {
                        var element = ItemElement(at, list[i], i, path);
                        if (!seen.Add(element))
                        {
                            throw new StructureException($"{PathElement.Format(path)}: duplicate entries for key {element}");
                        }

                        path.Add(element);
                        Walk(list[i], at.Items, path);
                        set.Insert(path);
                        path.RemoveAt(path.Count - 1);
                    }

                    break;
                default:
                    set.Insert(path);
                    break;
            }
        }
    }

    /// <summary>
    /// <c>Compare</c>: the leaves and items added, modified and removed going from <paramref name="before"/> to <paramref name="after"/>.
    /// Members and items that are the same on both sides are not walked, only checked for the list keys the walk would
    /// require of them.
    /// </summary>
    public static Comparison Compare(JsonNode before, JsonNode after, IFieldSchema schema)
    {
        var result = new Comparison(new FieldSet(), new FieldSet(), new FieldSet());
        Walk(before, true, after, true, schema, []);
        return result;

        void Walk(JsonNode? lhs, bool hasLhs, JsonNode? rhs, bool hasRhs, IFieldSchema at, List<PathElement> path)
        {
            if ((lhs is JsonObject || !hasLhs) && (rhs is JsonObject || !hasRhs))
            {
                var l = lhs as JsonObject;
                var r = rhs as JsonObject;
                if (at.IsAtomicMap || ((l is null || l.Count == 0) && (r is null || r.Count == 0)))
                {
                    Leaf();
                    return;
                }

                foreach (var (key, lv) in l ?? [])
                {
                    JsonNode? rv = null;
                    var inR = r is not null && r.TryGetPropertyValue(key, out rv);
                    var field = at.Field(key);
                    if (!inR || !Unchanged(lv, rv, field))
                    {
                        path.Add(PathElement.Field(key));
                        Walk(lv, true, rv, inR, field, path);
                        path.RemoveAt(path.Count - 1);
                    }
                }

                foreach (var (key, rv) in r ?? [])
                {
                    if (l is null || !l.ContainsKey(key))
                    {
                        path.Add(PathElement.Field(key));
                        Walk(null, false, rv, true, at.Field(key), path);
                        path.RemoveAt(path.Count - 1);
                    }
                }

                Node();
                return;
            }

            if ((lhs is JsonArray || !hasLhs) && (rhs is JsonArray || !hasRhs))
            {
                var l = lhs as JsonArray;
                var r = rhs as JsonArray;
                if (at.ListType == ListType.Atomic || ((l is null || l.Count == 0) && (r is null || r.Count == 0)))
                {
                    Leaf();
                    return;
                }

                var left = Index(at, l, path);
                var right = Index(at, r, path);
                foreach (var element in left.Keys.Concat(right.Keys).Distinct())
                {
                    var inL = left.TryGetValue(element, out var lv);
                    var inR = right.TryGetValue(element, out var rv);
                    if (!inL || !inR || !Unchanged(lv, rv, at.Items))
                    {
                        path.Add(element);
                        Walk(lv, inL, rv, inR, at.Items, path);
                        path.RemoveAt(path.Count - 1);
                    }
                }

                Node();
                return;
            }

            Leaf();

            void Leaf()
            {
                if (!hasLhs)
                {
                    result.Added.Insert(path);
                }
                else if (!hasRhs)
                {
                    result.Removed.Insert(path);
                }
                else if (!JsonValues.DeepEquals(lhs, rhs))
                {
                    result.Modified.Insert(path);
                }
            }

            void Node()
            {
                if (!hasLhs)
                {
                    result.Added.Insert(path);
                }
                else if (!hasRhs)
                {
                    result.Removed.Insert(path);
                }
            }
        }
    }

    /// <summary>
    /// Merges an applied configuration into a live object: the configuration's values win, maps merge member by member,
    /// associative lists and sets merge item by item in structured-merge-diff's order (the configuration's order,
    /// with live-only items kept where they were), atomic lists and maps are replaced. Null members of the
    /// configuration remove the field.
    /// </summary>
    public static JsonNode Merge(JsonNode? live, JsonNode config, IFieldSchema schema)
    {
        switch (config)
        {
            case JsonObject r when live is JsonObject l && !schema.IsAtomicMap:
                var map = (JsonObject)l.DeepClone();
                foreach (var (key, value) in r)
                {
                    if (JsonValues.IsNull(value))
                    {
                        map.Remove(key);
                    }
                    else
                    {
                        map[key] = Merge(l[key], value!, schema.Field(key));
                    }
                }

                return map;
            case JsonArray r when live is JsonArray l && schema.ListType != ListType.Atomic:
                return MergeLists(l, r, schema);
            default:
                return WithoutNulls(config.DeepClone());
        }
    }

    /// <summary>The value without the members (at any depth) that the given set names.</summary>
    public static JsonNode RemoveItems(JsonNode value, FieldSet remove, IFieldSchema schema)
    {
        switch (value)
        {
            case JsonObject map when !schema.IsAtomicMap:
                var result = new JsonObject();
                foreach (var (key, child) in map)
                {
                    var element = PathElement.Field(key);
                    if (remove.HasMember(element))
                    {
                        continue;
                    }

                    result[key] = remove.Child(element) is { } below && child is not null
                        ? RemoveItems(child, below, schema.Field(key))
                        : JsonValues.Clone(child);
                }

                return result;
            case JsonArray list when schema.ListType != ListType.Atomic:
                var items = new JsonArray();
                for (var i = 0; i < list.Count; i++)
                {
                    var element = TryItemElement(schema, list[i], i);
                    if (element is not null && remove.HasMember(element))
                    {
                        continue;
                    }

                    items.Add(element is not null && remove.Child(element) is { } below && list[i] is { } item
                        ? RemoveItems(item, below, schema.Items)
                        : JsonValues.Clone(list[i]));
                }

                return items;
            default:
                return value.DeepClone();
        }
    }

    /// <summary>The path element of a list item: its keys, its value, or its position, by the list's type.</summary>
    public static PathElement ItemElement(IFieldSchema list, JsonNode? item, int index, IReadOnlyList<PathElement> listPath)
    {
        switch (list.ListType)
        {
            case ListType.Map:
                if (item is not JsonObject map)
                {
                    throw new StructureException($"{PathElement.Format(listPath)}: element {index}: expected map, got {GoText.Marshal(item, escapeHtml: false)}");
                }

                var fields = new List<KeyValuePair<string, JsonNode?>>();
                foreach (var key in list.ListMapKeys)
                {
                    if (map.TryGetPropertyValue(key, out var value) && !JsonValues.IsNull(value))
                    {
                        fields.Add(KeyValuePair.Create(key, value));
                    }
                    else if (list.ListMapKeyDefault(key) is { } defaultValue)
                    {
                        fields.Add(KeyValuePair.Create(key, (JsonNode?)defaultValue));
                    }
                    else
                    {
                        throw new StructureException(
                            $"{PathElement.Format(listPath)}: element {index}: associative list with keys has an element that omits key field {GoText.Quote(key)} (and doesn't have default value)");
                    }
                }

                return PathElement.Key(fields);
            case ListType.Set:
                return PathElement.Value(item);
            default:
                return PathElement.At(index);
        }
    }

    private static PathElement? TryItemElement(IFieldSchema list, JsonNode? item, int index)
    {
        try
        {
            return ItemElement(list, item, index, []);
        }
        catch (StructureException)
        {
            return null;
        }
    }

    /// <summary>The items of a live list by path element; the first of duplicated items wins, as the library tolerates them there.</summary>
    private static Dictionary<PathElement, JsonNode?> Index(IFieldSchema list, JsonArray? items, IReadOnlyList<PathElement> path)
    {
        var index = new Dictionary<PathElement, JsonNode?>();
        for (var i = 0; items is not null && i < items.Count; i++)
        {
            index.TryAdd(ItemElement(list, items[i], i, path), items[i]);
        }

        return index;
    }

    /// <summary>
    /// Whether walking two present values would find nothing: they are equal as Go decodes them (so their path
    /// elements are too), and the walk would not throw on them (every item of an associative list below has its keys).
    /// </summary>
    private static bool Unchanged(JsonNode? lhs, JsonNode? rhs, IFieldSchema at) =>
        (ReferenceEquals(lhs, rhs) || JsonValues.GoEquals(lhs, rhs)) && HasListKeys(rhs, at);

    /// <summary>Whether <see cref="ItemElement"/> finds its key in every item of every associative list the walk would enter.</summary>
    private static bool HasListKeys(JsonNode? node, IFieldSchema at)
    {
        switch (node)
        {
            case JsonObject map when !at.IsAtomicMap:
                foreach (var (key, child) in map)
                {
                    if (child is JsonObject or JsonArray && !HasListKeys(child, at.Field(key)))
                    {
                        return false;
                    }
                }

                return true;
            case JsonArray list when at.ListType != ListType.Atomic:
                foreach (var item in list)
                {
                    if ((at.ListType == ListType.Map && !HasKeys(at, item)) || (item is JsonObject or JsonArray && !HasListKeys(item, at.Items)))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }

    private static bool HasKeys(IFieldSchema list, JsonNode? item)
    {
        if (item is not JsonObject map)
        {
            return false;
        }

        foreach (var key in list.ListMapKeys)
        {
            if ((!map.TryGetPropertyValue(key, out var value) || JsonValues.IsNull(value)) && list.ListMapKeyDefault(key) is null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>structured-merge-diff's <c>visitListItems</c> of the merging walker, which decides the merged order.</summary>
    private static JsonArray MergeLists(JsonArray lhs, JsonArray rhs, IFieldSchema schema)
    {
        var lhsElements = Enumerable.Range(0, lhs.Count).Select(i => ItemElement(schema, lhs[i], i, [])).ToList();
        var rhsElements = Enumerable.Range(0, rhs.Count).Select(i => ItemElement(schema, rhs[i], i, [])).ToList();
        var observedLhs = new Dictionary<PathElement, JsonNode?>();
        for (var i = 0; i < lhs.Count; i++)
        {
            observedLhs.TryAdd(lhsElements[i], lhs[i]);
        }

        var observedRhs = new Dictionary<PathElement, JsonNode?>();
        for (var i = 0; i < rhs.Count; i++)
        {
            observedRhs.TryAdd(rhsElements[i], rhs[i]);
        }

        var shared = new Queue<PathElement>(rhsElements.Where(observedLhs.ContainsKey));
        var nextShared = shared.Count > 0 ? shared.Dequeue() : null;
        var mergedRhs = new HashSet<PathElement>();
        var output = new JsonArray();
        int li = 0, ri = 0;
        while (li < lhsElements.Count || ri < rhsElements.Count)
        {
            if (li < lhsElements.Count && ri < rhsElements.Count)
            {
                var element = lhsElements[li];
                if (element.Equals(rhsElements[ri]))
                {
                    mergedRhs.Add(element);
                    output.Add(MergeItem(observedLhs.GetValueOrDefault(element), observedRhs[element]));
                    li++;
                    ri++;
                    nextShared = shared.Count > 0 ? shared.Dequeue() : null;
                    continue;
                }

                if (observedRhs.ContainsKey(element) && nextShared is not null && !nextShared.Equals(element))
                {
                    li++;
                    continue;
                }
            }

            if (li < lhsElements.Count)
            {
                var element = lhsElements[li];
                if (!observedRhs.ContainsKey(element))
                {
                    output.Add(JsonValues.Clone(lhs[li]));
                    li++;
                    continue;
                }

                if (mergedRhs.Contains(element))
                {
                    li++;
                    continue;
                }
            }

            if (ri < rhsElements.Count)
            {
                var element = rhsElements[ri];
                mergedRhs.Add(element);
                output.Add(MergeItem(observedLhs.GetValueOrDefault(element), observedRhs[element]));
                ri++;
                if (nextShared is not null && nextShared.Equals(element))
                {
                    nextShared = shared.Count > 0 ? shared.Dequeue() : null;
                }
            }
        }

        return output;

        JsonNode? MergeItem(JsonNode? live, JsonNode? applied) =>
            applied is null ? JsonValues.Clone(live) : Merge(live, applied, schema.Items);
    }

    private static JsonNode WithoutNulls(JsonNode node)
    {
        switch (node)
        {
            case JsonObject map:
                foreach (var (key, value) in map.ToList())
                {
                    if (JsonValues.IsNull(value))
                    {
                        map.Remove(key);
                    }
                    else
                    {
                        WithoutNulls(value!);
                    }
                }

                break;
            case JsonArray list:
                foreach (var item in list)
                {
                    if (item is not null)
                    {
                        WithoutNulls(item);
                    }
                }

                break;
        }

        return node;
    }
}
