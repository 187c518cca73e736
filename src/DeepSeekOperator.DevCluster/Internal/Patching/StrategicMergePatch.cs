using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// Strategic merge patch (<c>application/strategic-merge-patch+json</c>) for built-in kinds, as apimachinery's
/// <c>strategicpatch.StrategicMergeMapPatch</c> applies it: maps merge recursively and <c>null</c> deletes; lists
/// whose Go field says <c>patchStrategy:"merge"</c> merge by their <c>patchMergeKey</c> (or by value for scalars),
/// others are replaced; the directives <c>$patch: replace|delete</c>, <c>$retainKeys</c>,
/// <c>$deleteFromPrimitiveList/&lt;field&gt;</c> and <c>$setElementOrder/&lt;field&gt;</c> are honoured; and new list
/// items are placed before the items only the server had, in the order the patch gives.
/// Errors carry kube-apiserver's status: 400 for a malformed directive, 422 for lists of lists, and 500 (a plain Go
/// error passed through) for the rest, such as an item without its merge key.
/// </summary>
internal static class StrategicMergePatch
{
    private const string DirectiveMarker = "$patch";
    private const string RetainKeys = "$retainKeys";
    private const string DeleteFromPrimitiveList = "$deleteFromPrimitiveList";
    private const string SetElementOrder = "$setElementOrder";

    private const string BadPrimitiveList = "invalid patch format of primitive list";
    private const string BadRetainKeys = "invalid patch format of retainKeys";
    private const string BadSetElementOrder = "invalid patch format of setElementOrder list";

    /// <summary>Decodes a patch body and applies it to a copy of <paramref name="original"/>.</summary>
    public static JsonObject Apply(JsonObject original, string patch, BuiltInSchema schema)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonValues.Parse(patch);
        }
        catch (FormatException e)
        {
            throw PatchException.BadRequest(e.Message);
        }

        return Apply(original, parsed, schema);
    }

    /// <summary>Applies a decoded patch (a JSON object, or null for no change) to a copy of <paramref name="original"/>.</summary>
    public static JsonObject Apply(JsonObject original, JsonNode? patch, BuiltInSchema schema)
    {
        if (JsonValues.IsNull(patch))
        {
            return (JsonObject)original.DeepClone();
        }

        if (patch is not JsonObject patchObject)
        {
            throw PatchException.BadRequest(JsonValues.CannotUnmarshal(patch, "map[string]interface {}"));
        }

        return MergeMap((JsonObject)original.DeepClone(), (JsonObject)patchObject.DeepClone(), schema);
    }

    private static JsonObject MergeMap(JsonObject original, JsonObject patch, BuiltInSchema schema)
    {
        if (patch.TryGetPropertyValue(DirectiveMarker, out var directive))
        {
            switch (Json.String(directive))
            {
                case "replace":
                    patch.Remove(DirectiveMarker);
                    return patch;
                case "delete":
                    return [];
                default:
                    throw BadPatchType(directive, patch);
            }
        }

        ApplyRetainKeys(original, patch);
        MergeOrderedLists(original, patch, schema);

        foreach (var (patchKey, patchValue) in patch.ToList())
        {
            var key = patchKey;
            var isDeleteList = false;
            if (key.StartsWith(DeleteFromPrimitiveList, StringComparison.Ordinal))
            {
                key = ExtractKey(key, BadPrimitiveList);
                isDeleteList = true;
            }

            if (JsonValues.IsNull(patchValue))
            {
                original.Remove(key);
                continue;
            }

            var value = patchValue!;
            patch.Remove(patchKey);
            if (!original.TryGetPropertyValue(key, out var current) || !SameType(current, value))
            {
                if (!isDeleteList)
                {
                    SetCleaned(original, key, value);
                }

                continue;
            }

            var member = schema.Member(key);
            switch (current)
            {
                case JsonObject currentMap:
                    original[key] = MergeMap(currentMap.Detach(), (JsonObject)value, member);
                    break;
                case JsonArray currentList:
                    original[key] = MergeSliceHandler(currentList.Detach(), (JsonArray)value, member, isDeleteList);
                    break;
                default:
                    SetCleaned(original, key, value);
                    break;
            }
        }

        return original;
    }

    private static JsonObject Detach(this JsonObject node) => (JsonObject)node.DeepClone();

    private static JsonArray Detach(this JsonArray node) => (JsonArray)node.DeepClone();

    private static bool SameType(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (JsonObject, JsonObject) or (JsonArray, JsonArray) => true,
        (JsonValue x, JsonValue y) => Kind(x) == Kind(y),
        _ => false,
    };

    private static JsonValueKind Kind(JsonValue value) => value.GetValueKind() is JsonValueKind.False ? JsonValueKind.True : value.GetValueKind();

    /// <summary>Sets a value taken from the patch as it would read back from the typed object: no nulls, no directives.</summary>
    private static void SetCleaned(JsonObject target, string key, JsonNode value)
    {
        var cleaned = Clean(value.DeepClone());
        if (cleaned is null)
        {
            target.Remove(key);
        }
        else
        {
            target[key] = cleaned;
        }
    }

    /// <summary>
    /// <c>discardNullValuesFromPatch</c> and <c>removeDirectives</c>: drops null members and directive keys at any
    /// depth; a map that is itself a <c>$patch: delete</c> directive vanishes.
    /// </summary>
    private static JsonNode? Clean(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                if (Json.String(o[DirectiveMarker]) == "delete")
                {
                    return null;
                }

                foreach (var (key, value) in o.ToList())
                {
                    if (key.StartsWith('$') || JsonValues.IsNull(value))
                    {
                        o.Remove(key);
                    }
                    else if (Clean(value) is null)
                    {
                        o.Remove(key);
                    }
                }

                return o;
            case JsonArray a:
                for (var i = a.Count - 1; i >= 0; i--)
                {
                    if (a[i] is JsonObject && Clean(a[i]) is null)
                    {
                        a.RemoveAt(i);
                    }
                }

                return a;
            default:
                return node;
        }
    }

    private static void ApplyRetainKeys(JsonObject original, JsonObject patch)
    {
        if (!patch.TryGetPropertyValue(RetainKeys, out var retain))
        {
            return;
        }

        patch.Remove(RetainKeys);
        if (retain is not JsonArray list)
        {
            throw PatchException.BadRequest(BadRetainKeys);
        }

        var keep = list.Select(Json.String).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var (key, value) in patch)
        {
            if (JsonValues.IsNull(value) ||
                key.StartsWith(DeleteFromPrimitiveList, StringComparison.Ordinal) ||
                key.StartsWith(SetElementOrder, StringComparison.Ordinal))
            {
                continue;
            }

            if (!keep.Contains(key))
            {
                throw PatchException.BadRequest(BadRetainKeys);
            }
        }

        foreach (var key in original.Select(p => p.Key).Where(k => !keep.Contains(k)).ToList())
        {
            original.Remove(key);
        }
    }

    /// <summary>
    /// <c>mergePatchIntoOriginal</c>: merges each list named by a <c>$setElementOrder/&lt;field&gt;</c> directive with
    /// its patch list and orders the result by the directive, then by the patch, then by the live list.
    /// </summary>
    private static void MergeOrderedLists(JsonObject original, JsonObject patch, BuiltInSchema schema)
    {
        foreach (var (directiveKey, orderNode) in patch.ToList())
        {
            if (!directiveKey.StartsWith(SetElementOrder, StringComparison.Ordinal))
            {
                continue;
            }

            var key = ExtractKey(directiveKey, BadSetElementOrder);
            var originalList = original[key] switch
            {
                null => [],
                JsonArray a => a.Detach(),
                var other => throw PatchException.Internal(BadArgType("[]interface{}", other)),
            };
            var patchList = patch[key] switch
            {
                null => [],
                JsonArray a => a.Detach(),
                _ => throw PatchException.BadRequest(BadSetElementOrder),
            };
            if (orderNode is not JsonArray order)
            {
                throw PatchException.BadRequest(BadSetElementOrder);
            }

            var member = schema.Member(key);
            var mergeKey = member.Rule?.MergeKey;
            ValidateOrder(patchList, order, mergeKey);
            var merged = MergeSliceHandler(originalList.Detach(), patchList, member, false);
            var kind = ElementKind(originalList, patchList) ?? (mergeKey is null ? ElementKindOf.Scalar : ElementKindOf.Map);
            var (patchItems, serverOnly) = Partition(merged, order, mergeKey, kind);
            var both = NormalizeElementOrder(patchItems, serverOnly, order, originalList, mergeKey, kind);
            original[key] = new JsonArray([.. both.Select(JsonValues.Clone)]);
            patch.Remove(directiveKey);
            patch.Remove(key);
        }
    }

    private static void ValidateOrder(JsonArray patchList, JsonArray order, string? mergeKey)
    {
        if (order.Count == 0 || patchList.Count == 0)
        {
            return;
        }

        var items = mergeKey is null ? [.. patchList] : patchList.Where(i => !IsDeleteDirective(i)).ToList();
        int p = 0, o = 0;
        while (p < items.Count && o < order.Count)
        {
            if (items[p] is JsonObject item && item.ContainsKey(DirectiveMarker))
            {
                p++;
                continue;
            }

            if (KeyValueEqual(items[p], order[o], mergeKey))
            {
                p++;
            }

            o++;
        }

        if (p < items.Count && o >= order.Count)
        {
            throw PatchException.Internal(
                $"The order in patch list:\n{GoText.Sprint(patchList)}\n doesn't match {SetElementOrder} list:\n{GoText.Sprint(order)}\n");
        }
    }

    private static bool KeyValueEqual(JsonNode? left, JsonNode? right, string? mergeKey)
    {
        if (mergeKey is null)
        {
            return JsonValues.DeepEquals(left, right);
        }

        return JsonValues.DeepEquals(MergeKeyOf(left, mergeKey), MergeKeyOf(right, mergeKey));
    }

    private static JsonNode? MergeKeyOf(JsonNode? item, string mergeKey)
    {
        if (item is not JsonObject map)
        {
            throw PatchException.Internal(BadArgType("map[string]interface{}", item));
        }

        return map.TryGetPropertyValue(mergeKey, out var value) ? value : throw NoMergeKey(map, mergeKey);
    }

    private static JsonArray MergeSliceHandler(JsonArray original, JsonArray patch, BuiltInSchema schema, bool isDeleteList)
    {
        var rule = schema.Rule;
        if (rule is not { Merge: true })
        {
            return (JsonArray)Clean(patch)!;
        }

        return MergeSlice(original, patch, (BuiltInSchema)schema.Items, rule.MergeKey, isDeleteList, schema);
    }

    private static JsonArray MergeSlice(JsonArray original, JsonArray patch, BuiltInSchema items, string? mergeKey, bool isDeleteList, BuiltInSchema list)
    {
        if (original.Count == 0 && patch.Count == 0)
        {
            return original;
        }

        var kind = ElementKind(original, patch) ?? throw PatchException.Internal("no elements in any of the given slices");
        List<JsonNode?> originalItems = [.. original.Select(JsonValues.Clone)];
        List<JsonNode?> patchItems = [.. patch.Select(JsonValues.Clone)];
        List<JsonNode?> merged;
        if (kind != ElementKindOf.Map)
        {
            if (isDeleteList)
            {
                return new JsonArray([.. originalItems.Where(o => !patchItems.Any(p => JsonValues.DeepEquals(o, p)))]);
            }

            merged = [];
            foreach (var item in originalItems.Concat(patchItems))
            {
                if (!merged.Any(m => JsonValues.DeepEquals(m, item)))
                {
                    merged.Add(item);
                }
            }
        }
        else
        {
            if (mergeKey is null)
            {
                throw PatchException.Internal($"cannot merge lists without merge key for {list.Path}");
            }

            (originalItems, patchItems) = MergeSpecialElements(originalItems, patchItems, mergeKey);
            merged = MergeByKey(originalItems, patchItems, mergeKey, items);
        }

        var (inPatch, serverOnly) = Partition(merged, patchItems, kind == ElementKindOf.Map ? mergeKey : null, kind);
        return new JsonArray([.. NormalizeElementOrder(inPatch, serverOnly, patchItems, originalItems, kind == ElementKindOf.Map ? mergeKey : null, kind).Select(JsonValues.Clone)]);
    }

    /// <summary>
    /// <c>mergeSliceWithSpecialElements</c>: items <c>{$patch: delete, key: v}</c> delete the live items with that key,
    /// and an item <c>{$patch: replace}</c> makes the rest of the patch list replace the live list.
    /// </summary>
    private static (List<JsonNode?> Original, List<JsonNode?> Patch) MergeSpecialElements(List<JsonNode?> original, List<JsonNode?> patch, string mergeKey)
    {
        var plain = new List<JsonNode?>();
        var replace = false;
        foreach (var item in patch)
        {
            var map = (JsonObject)item!;
            if (!map.TryGetPropertyValue(DirectiveMarker, out var directive))
            {
                plain.Add(item);
                continue;
            }

            switch (Json.String(directive))
            {
                case "delete":
                    if (!map.TryGetPropertyValue(mergeKey, out var keyValue))
                    {
                        throw NoMergeKey(map, mergeKey);
                    }

                    original = [.. original.Where(o => !(o is JsonObject m && m.TryGetPropertyValue(mergeKey, out var v) && JsonValues.DeepEquals(v, keyValue)))];
                    break;
                case "replace":
                    replace = true;
                    break;
                case "merge":
                    throw PatchException.Internal("merging lists cannot yet be specified in the patch");
                default:
                    throw BadPatchType(directive, map);
            }
        }

        return replace ? (plain, []) : (original, plain);
    }

    private static List<JsonNode?> MergeByKey(List<JsonNode?> original, List<JsonNode?> patch, string mergeKey, BuiltInSchema items)
    {
        var result = new List<JsonNode?>(original);
        foreach (var item in patch)
        {
            var map = (JsonObject)item!;
            if (!map.TryGetPropertyValue(mergeKey, out var keyValue))
            {
                throw NoMergeKey(map, mergeKey);
            }

            var index = result.FindIndex(o => o is JsonObject m && m.TryGetPropertyValue(mergeKey, out var v) && JsonValues.DeepEquals(v, keyValue));
            if (index >= 0)
            {
                result[index] = MergeMap(((JsonObject)result[index]!).Detach(), map.Detach(), items);
            }
            else
            {
                result.Add(Clean(map.DeepClone()));
            }
        }

        return result;
    }

    private enum ElementKindOf
    {
        Scalar,
        Map,
    }

    /// <summary><c>sliceElementType</c>: every item of both lists must have the same type, and none may be a list.</summary>
    private static ElementKindOf? ElementKind(JsonArray original, JsonArray patch)
    {
        string? previous = null;
        foreach (var item in original.Concat(patch))
        {
            var type = item switch
            {
                JsonObject => "map",
                JsonArray => throw PatchException.Unprocessable("lists of lists are not supported"),
                JsonValue v => Kind(v).ToString(),
                _ => "nil",
            };
            if (previous is not null && previous != type)
            {
                throw PatchException.Internal(
                    $"list element types are not identical: [{GoText.Sprint(original)} {GoText.Sprint(patch)}]");
            }

            previous = type;
        }

        return previous switch
        {
            null => null,
            "map" => ElementKindOf.Map,
            _ => ElementKindOf.Scalar,
        };
    }

    private static (List<JsonNode?> InList, List<JsonNode?> Others) Partition(IEnumerable<JsonNode?> merged, IEnumerable<JsonNode?> list, string? mergeKey, ElementKindOf kind)
    {
        var inList = new List<JsonNode?>();
        var others = new List<JsonNode?>();
        var reference = list.ToList();
        foreach (var item in merged)
        {
            (Index(reference, item, mergeKey, kind) >= 0 ? inList : others).Add(item);
        }

        return (inList, others);
    }

    /// <summary>
    /// <c>normalizeElementOrder</c>: sorts the patch's items by the patch order and the server-only items by the live
    /// order, then interleaves them, keeping a server-only item before a patch item only when the live list had it first.
    /// </summary>
    private static List<JsonNode?> NormalizeElementOrder(
        List<JsonNode?> patch, List<JsonNode?> serverOnly, IEnumerable<JsonNode?> patchOrder, IEnumerable<JsonNode?> serverOrder, string? mergeKey, ElementKindOf kind)
    {
        var patchOrderList = patchOrder.ToList();
        var serverOrderList = serverOrder.ToList();
        var sortedPatch = SortByOrder(patch, patchOrderList, mergeKey, kind);
        var sortedServer = SortByOrder(serverOnly, serverOrderList, mergeKey, kind);

        var result = new List<JsonNode?>(sortedPatch.Count + sortedServer.Count);
        int i = 0, j = 0;
        while (i < sortedServer.Count || j < sortedPatch.Count)
        {
            if (i >= sortedServer.Count)
            {
                result.Add(sortedPatch[j++]);
            }
            else if (j >= sortedPatch.Count)
            {
                result.Add(sortedServer[i++]);
            }
            else
            {
                var li = Index(serverOrderList, sortedServer[i], mergeKey, kind);
                var ri = Index(serverOrderList, sortedPatch[j], mergeKey, kind);
                result.Add(li >= 0 && ri >= 0 && li < ri ? sortedServer[i++] : sortedPatch[j++]);
            }
        }

        return result;
    }

    /// <summary>
    /// <c>normalizeSliceOrder</c>: Go's stable insertion sort with the library's comparator, under which an item
    /// missing from <paramref name="order"/> counts as smaller than everything.
    /// </summary>
    private static List<JsonNode?> SortByOrder(List<JsonNode?> items, List<JsonNode?> order, string? mergeKey, ElementKindOf kind)
    {
        var sorted = new List<JsonNode?>(items);
        if (kind == ElementKindOf.Map && mergeKey is not null)
        {
            foreach (var item in sorted.Concat(order))
            {
                MergeKeyOf(item, mergeKey);
            }
        }

        for (var i = 1; i < sorted.Count; i++)
        {
            for (var j = i; j > 0 && Less(sorted[j], sorted[j - 1]); j--)
            {
                (sorted[j], sorted[j - 1]) = (sorted[j - 1], sorted[j]);
            }
        }

        return sorted;

        bool Less(JsonNode? a, JsonNode? b)
        {
            var ia = Index(order, a, mergeKey, kind);
            var ib = Index(order, b, mergeKey, kind);
            return ia < 0 || ib < 0 || ia < ib;
        }
    }

    private static int Index(List<JsonNode?> list, JsonNode? item, string? mergeKey, ElementKindOf kind)
    {
        for (var i = 0; i < list.Count; i++)
        {
            var match = kind == ElementKindOf.Map && mergeKey is not null
                ? list[i] is JsonObject l && item is JsonObject r && l.TryGetPropertyValue(mergeKey, out var lv) &&
                  r.TryGetPropertyValue(mergeKey, out var rv) && JsonValues.DeepEquals(lv, rv)
                : JsonValues.DeepEquals(list[i], item);
            if (match)
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsDeleteDirective(JsonNode? item) => item is JsonObject o && Json.String(o[DirectiveMarker]) == "delete";

    private static string ExtractKey(string key, string error)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? throw PatchException.BadRequest(error) : key[(slash + 1)..];
    }

    private static PatchException BadPatchType(JsonNode? directive, JsonObject map) =>
        PatchException.Internal($"unknown patch type: {GoText.Sprint(directive)} in map: {GoText.Sprint(map)}");

    private static PatchException NoMergeKey(JsonObject map, string mergeKey) =>
        PatchException.Internal($"map: {GoText.Sprint(map)} does not contain declared merge key: {mergeKey}");

    private static string BadArgType(string expected, JsonNode? actual) =>
        $"expected a {expected}, but received a {(actual is JsonObject ? "map[string]interface {}" : actual is JsonArray ? "[]interface {}" : "string")}";
}
