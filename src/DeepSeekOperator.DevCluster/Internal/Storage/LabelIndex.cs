using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Storage;

/// <summary>
/// The store's secondary index: for each resource, namespace, label and value, the keys of the objects with that
/// label value, and under <see cref="ControllerKey"/> the keys of the objects each controller UID controls, as the
/// indexers of kube-controller-manager's informers find a Service's pods or a ReplicaSet's pods without a scan.
/// Not thread-safe: the store calls it under its lock.
/// </summary>
internal sealed class LabelIndex
{
    /// <summary>The pseudo-label under which objects are indexed by the UID of their controller.</summary>
    public const string ControllerKey = "\0controller";

    /// <summary>The pseudo-label and pseudo-namespace under which objects are indexed by the UID of each of their owners, across namespaces.</summary>
    public const string OwnerKey = "\0owner";

    private readonly Dictionary<(string StorageKey, string Namespace, string Label, string Value), SortedSet<string>> postings = [];

    /// <summary>Moves an object's entries from its <paramref name="previous"/> version to its <paramref name="current"/> one (null when absent).</summary>
    public void Update(string storageKey, StoredObject? previous, StoredObject? current)
    {
        if (previous is not null && current is not null
            && JsonNode.DeepEquals(previous.Value["metadata"]?["labels"], current.Value["metadata"]?["labels"])
            && JsonNode.DeepEquals(previous.Value["metadata"]?["ownerReferences"], current.Value["metadata"]?["ownerReferences"]))
        {
            // Most writes (status above all) leave the labels and owners, and so every entry, as they were.
            return;
        }

        var before = previous is null ? [] : Entries(previous.Value);
        var after = current is null ? [] : Entries(current.Value);
        if (previous is not null)
        {
            foreach (var entry in before.Where(e => current is null || !after.Contains(e)))
            {
                var at = (storageKey, entry.Label == OwnerKey ? OwnerKey : previous.Namespace, entry.Label, entry.Value);
                if (postings.TryGetValue(at, out var keys) && keys.Remove(previous.Key) && keys.Count == 0)
                {
                    postings.Remove(at);
                }
            }
        }

        if (current is not null)
        {
            foreach (var entry in after.Where(e => previous is null || !before.Contains(e)))
            {
                var at = (storageKey, entry.Label == OwnerKey ? OwnerKey : current.Namespace, entry.Label, entry.Value);
                if (!postings.TryGetValue(at, out var keys))
                {
                    keys = new SortedSet<string>(StringComparer.Ordinal);
                    postings[at] = keys;
                }

                keys.Add(current.Key);
            }
        }
    }

    /// <summary>The objects of <paramref name="table"/> indexed under the label value, in key order.</summary>
    public IReadOnlyList<StoredObject> Find(string storageKey, string ns, string label, string value, SortedDictionary<string, StoredObject> table)
    {
        if (!postings.TryGetValue((storageKey, ns, label, value), out var keys))
        {
            return [];
        }

        var found = new List<StoredObject>(keys.Count);
        foreach (var key in keys)
        {
            found.Add(table[key]);
        }

        return found;
    }

    /// <summary>How many objects are indexed under the label value.</summary>
    public int Count(string storageKey, string ns, string label, string value) =>
        postings.TryGetValue((storageKey, ns, label, value), out var keys) ? keys.Count : 0;

    /// <summary>The text a label selector compares a label's value with: a string as it is, anything else as JSON.</summary>
    public static string LabelText(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : node?.ToJsonString() ?? "";

    private static HashSet<(string Label, string Value)> Entries(JsonObject obj)
    {
        var entries = new HashSet<(string, string)>();
        if (obj["metadata"]?["labels"] is JsonObject labels)
        {
            foreach (var (label, value) in labels)
            {
                entries.Add((label, LabelText(value)));
            }
        }

        var owners = Meta.Owners(obj);
        if (owners.FirstOrDefault(o => o.Controller) is { } controller)
        {
            entries.Add((ControllerKey, controller.Uid));
        }

        foreach (var owner in owners)
        {
            entries.Add((OwnerKey, owner.Uid));
        }

        return entries;
    }
}
