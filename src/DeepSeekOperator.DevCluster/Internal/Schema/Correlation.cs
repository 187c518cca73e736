using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// The old value that corresponds to a new one on an update, found as Kubernetes correlates them for ratcheting and
/// <c>oldSelf</c>: object members by name (unless the map is atomic), <c>map</c> list items by their keys; atomic lists
/// do not correlate.
/// </summary>
/// <param name="Value">The old value.</param>
/// <param name="Exists">Whether there is one (an old value may itself be absent or null).</param>
internal readonly record struct Correlation(JsonNode? Value, bool Exists)
{
    /// <summary>No old value: a create, or a field that is new.</summary>
    public static Correlation None => default;

    /// <summary>The root of an update.</summary>
    public static Correlation Of(JsonNode? old, bool exists) => exists ? new Correlation(old, true) : None;

    /// <summary>The old counterpart of a member of an object described by <paramref name="schema"/>.</summary>
    public Correlation Member(SchemaNode schema, string name) =>
        Exists && schema.MapIsCorrelatable && Value is JsonObject old && old.TryGetPropertyValue(name, out var member) && member is not null
            ? new Correlation(member, true)
            : None;

    /// <summary>The old counterpart of an item of a list described by <paramref name="schema"/>.</summary>
    public Correlation Item(SchemaNode schema, JsonNode? item, bool includeSets)
    {
        if (!Exists || Value is not JsonArray old || item is null)
        {
            return None;
        }

        if (schema.ListType == "map" && schema.ListMapKeys.Count > 0 && item is JsonObject entry)
        {
            foreach (var candidate in old)
            {
                if (candidate is JsonObject previous && schema.ListMapKeys.All(k => SameKey(entry, previous, k)))
                {
                    return new Correlation(previous, true);
                }
            }

            return None;
        }

        if (includeSets && schema.ListType == "set")
        {
            foreach (var candidate in old)
            {
                if (JsonValues.GoEquals(candidate, item))
                {
                    return new Correlation(candidate, true);
                }
            }
        }

        return None;
    }

    private static bool SameKey(JsonObject a, JsonObject b, string key)
    {
        var inA = a.TryGetPropertyValue(key, out var x);
        var inB = b.TryGetPropertyValue(key, out var y);
        return inA == inB && JsonValues.GoEquals(x, y);
    }
}
