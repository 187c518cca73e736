using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// JSON merge patch (RFC 7386, <c>application/merge-patch+json</c>) as kube-apiserver applies it with
/// evanphx/json-patch's <c>MergePatch</c>: objects merge recursively, <c>null</c> deletes, anything else replaces,
/// and nulls inside a value that is set where nothing was merged into are dropped.
/// </summary>
internal static class JsonMergePatch
{
    /// <summary>
    /// Applies a patch body to a document. A body that is not JSON, or is <c>null</c> or a bare scalar, is a 400
    /// <c>Invalid JSON Patch</c>; an array replaces the whole document, as the RFC says.
    /// </summary>
    public static JsonNode Apply(JsonNode? document, string patch)
    {
        JsonNode? parsed;
        try
        {
            parsed = JsonValues.Parse(patch);
        }
        catch (FormatException)
        {
            throw PatchException.BadRequest("Invalid JSON Patch");
        }

        return Apply(document, parsed);
    }

    /// <summary>Applies a parsed patch to a document; neither argument is modified.</summary>
    public static JsonNode Apply(JsonNode? document, JsonNode? patch)
    {
        if (patch is JsonArray array)
        {
            var replacement = array.DeepClone();
            PruneNulls(replacement);
            return replacement;
        }

        if (patch is not JsonObject patchObject)
        {
            throw PatchException.BadRequest("Invalid JSON Patch");
        }

        var target = document is JsonObject original ? (JsonObject)original.DeepClone() : [];
        MergeInto(target, patchObject);
        return target;
    }

    private static void MergeInto(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (JsonValues.IsNull(value))
            {
                target.Remove(key);
                continue;
            }

            if (target[key] is JsonObject current && value is JsonObject nested)
            {
                MergeInto(current, nested);
                continue;
            }

            var replacement = value!.DeepClone();
            if (target[key] is not JsonObject)
            {
                PruneNulls(replacement);
            }

            target[key] = replacement;
        }
    }

    /// <summary>evanphx's <c>pruneNulls</c>: drops null members of objects, at any depth, but keeps null array items.</summary>
    private static void PruneNulls(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Where(p => JsonValues.IsNull(p.Value)).Select(p => p.Key).ToList())
                {
                    o.Remove(key);
                }

                foreach (var (_, child) in o)
                {
                    PruneNulls(child!);
                }

                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    if (child is not null)
                    {
                        PruneNulls(child);
                    }
                }

                break;
        }
    }
}
