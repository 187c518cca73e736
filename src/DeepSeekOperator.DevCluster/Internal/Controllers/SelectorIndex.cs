using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Controllers;

/// <summary>
/// The selectors of one kind of object (Services, PodDisruptionBudgets) by namespace, so that a changed pod finds the
/// objects selecting it without matching every selector of its namespace: each selector with an equality
/// requirement is filed under that label value and only checked against pods that have it; the others are checked
/// against every pod of their namespace. Kept by the controller loop's change pump, which is its only user.
/// </summary>
internal sealed class SelectorIndex
{
    private readonly Dictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Namespace, string Label, string Value), HashSet<string>> byLabel = [];
    private readonly Dictionary<string, HashSet<string>> unindexed = new(StringComparer.Ordinal);

    /// <summary>
    /// Files <paramref name="obj"/> with its selector: <paramref name="matches"/> decides, and <paramref name="required"/>
    /// are label values every object it matches has (it is filed under the one fewest selectors are filed under yet).
    /// </summary>
    public void Put(StoredObject obj, Func<JsonObject?, bool> matches, IReadOnlyList<(string Label, string Value)> required)
    {
        Remove(obj.Key);
        (string Label, string Value)? narrow = required.Count == 0
            ? null
            : required.MinBy(r => byLabel.TryGetValue((obj.Namespace, r.Label, r.Value), out var keys) ? keys.Count : 0);
        var entry = new Entry(obj.Namespace, matches, narrow);
        entries[obj.Key] = entry;
        Bucket(entry).Add(obj.Key);
    }

    /// <summary>Files an object with a label selector (a PodDisruptionBudget's), narrowed by its single-valued equality requirements.</summary>
    public void Put(StoredObject obj, LabelSelector selector) =>
        Put(obj, selector.Matches, [.. selector.Requirements.Where(r => r.Operator is LabelOperator.Equals or LabelOperator.DoubleEquals or LabelOperator.In && r.Values.Count == 1).Select(r => (r.Key, r.Values[0]))]);

    /// <summary>Forgets the object stored under <paramref name="key"/>.</summary>
    public void Remove(string key)
    {
        if (!entries.Remove(key, out var entry))
        {
            return;
        }

        var bucket = Bucket(entry);
        bucket.Remove(key);
        if (bucket.Count == 0)
        {
            if (entry.Narrow is { } narrow)
            {
                byLabel.Remove((entry.Namespace, narrow.Label, narrow.Value));
            }
            else
            {
                unindexed.Remove(entry.Namespace);
            }
        }
    }

    /// <summary>The keys, in order, of the objects of <paramref name="ns"/> whose selector matches any of <paramref name="labelSets"/>.</summary>
    public List<string> Matching(string ns, IEnumerable<JsonObject?> labelSets)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var labels in labelSets)
        {
            var candidates = new List<string>(unindexed.GetValueOrDefault(ns) ?? []);
            foreach (var (label, value) in labels ?? [])
            {
                if (byLabel.TryGetValue((ns, label, LabelIndex.LabelText(value)), out var keys))
                {
                    candidates.AddRange(keys);
                }
            }

            foreach (var key in candidates)
            {
                if (!found.Contains(key) && entries[key].Matches(labels))
                {
                    found.Add(key);
                }
            }
        }

        return [.. found];
    }

    private HashSet<string> Bucket(Entry entry)
    {
        HashSet<string>? bucket;
        if (entry.Narrow is { } narrow)
        {
            if (!byLabel.TryGetValue((entry.Namespace, narrow.Label, narrow.Value), out bucket))
            {
                bucket = new HashSet<string>(StringComparer.Ordinal);
                byLabel[(entry.Namespace, narrow.Label, narrow.Value)] = bucket;
            }
        }
        else if (!unindexed.TryGetValue(entry.Namespace, out bucket))
        {
            bucket = new HashSet<string>(StringComparer.Ordinal);
            unindexed[entry.Namespace] = bucket;
        }

        return bucket;
    }

    private sealed record Entry(string Namespace, Func<JsonObject?, bool> Matches, (string Label, string Value)? Narrow);
}
