using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// Controller references as <c>pkg/controller/controller_ref_manager.go</c> handles them: who controls an object, the
/// reference an owner puts on what it creates, and claiming (adopting orphans that match the selector, releasing owned
/// objects that no longer do).
/// </summary>
internal static class ControllerRefs
{
    /// <summary>The owner reference with <c>controller: true</c>, if any.</summary>
    public static OwnerReference? ControllerOf(JsonObject obj) => Meta.Owners(obj).FirstOrDefault(o => o.Controller);

    /// <summary>Whether <paramref name="obj"/> is controlled by an object of <paramref name="kind"/> in <paramref name="group"/>.</summary>
    public static bool IsControlledBy(JsonObject obj, string group, string kind, out string name)
    {
        var owner = ControllerOf(obj);
        name = owner?.Name ?? "";
        return owner is not null && owner.Kind == kind && owner.Group == group;
    }

    /// <summary>
    /// The keys (<c>namespace/name</c>) of the controllers of <paramref name="kind"/> that control the changed object
    /// before or after <paramref name="change"/>: a dependent moving between owners wakes both.
    /// </summary>
    public static HashSet<string> ControllerKeys(StoreEvent change, string group, string kind)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var version in new[] { change.Object.Value, change.Previous?.Value })
        {
            if (version is not null && IsControlledBy(version, group, kind, out var owner))
            {
                keys.Add(StoredObject.KeyOf(change.Object.Namespace, owner));
            }
        }

        return keys;
    }

    /// <summary>The reference an owner puts on its dependents (<c>metav1.NewControllerRef</c>).</summary>
    public static JsonObject NewControllerRef(JsonObject owner) => new()
    {
        ["apiVersion"] = Json.String(owner["apiVersion"]),
        ["kind"] = Json.String(owner["kind"]),
        ["name"] = Meta.Name(owner),
        ["uid"] = Meta.Uid(owner),
        ["controller"] = true,
        ["blockOwnerDeletion"] = true,
    };

    /// <summary>
    /// What <see cref="Claim"/> can act on for <paramref name="ownerUid"/> among the objects of <paramref name="type"/> in
    /// <paramref name="ns"/>, in key order: those it controls and those its selector matches, found through the store's
    /// indexes; every other object would be skipped by the claim anyway.
    /// </summary>
    public static IEnumerable<JsonObject> Candidates(ObjectStore store, ResourceType type, string ns, string ownerUid, LabelSelector selector)
    {
        var found = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var item in store.ListControlledBy(type.StorageKey, ns, ownerUid).Concat(store.ListMatching(type.StorageKey, ns, selector)))
        {
            found[item.Key] = item.Value;
        }

        return found.Values;
    }

    /// <summary>
    /// Claims <paramref name="candidates"/> for <paramref name="owner"/> (<c>ClaimObject</c>): objects it controls and its
    /// selector still matches are kept; those it controls that no longer match are released; orphans that match and are
    /// not being deleted are adopted while the owner, read afresh, has the same UID and is not being deleted.
    /// <paramref name="belongs"/> narrows what may match beyond the selector (a StatefulSet's pods by name).
    /// Returns the claimed objects, adopted ones as written.
    /// </summary>
    public static List<JsonObject> Claim(
        ObjectService objects,
        WriteOptions writes,
        ResourceType type,
        JsonObject owner,
        LabelSelector selector,
        IEnumerable<JsonObject> candidates,
        Func<JsonObject, bool>? belongs = null)
    {
        var claimed = new List<JsonObject>();
        var ownerUid = Meta.Uid(owner);
        var ownerDeleting = Meta.IsDeleting(owner);
        bool? adoptable = null;
        foreach (var candidate in candidates)
        {
            var matches = selector.Matches(candidate["metadata"]?["labels"] as JsonObject) && (belongs?.Invoke(candidate) ?? true);
            var controller = ControllerOf(candidate);
            if (controller is not null)
            {
                if (controller.Uid != ownerUid)
                {
                    continue;
                }

                if (matches)
                {
                    claimed.Add(candidate);
                }
                else if (!ownerDeleting)
                {
                    Release(objects, writes, type, candidate, ownerUid);
                }

                continue;
            }

            if (ownerDeleting || !matches || Meta.IsDeleting(candidate))
            {
                continue;
            }

            adoptable ??= CanAdopt(objects, owner);
            if (adoptable == true && Adopt(objects, writes, type, candidate, owner) is { } adopted)
            {
                claimed.Add(adopted);
            }
        }

        return claimed;
    }

    /// <summary>The owner as stored now still has the UID we read and is not being deleted (<c>RecheckDeletionTimestamp</c>).</summary>
    private static bool CanAdopt(ObjectService objects, JsonObject owner)
    {
        var type = objects.Registry.FindKind(OwnerGroup(owner), Json.String(owner["kind"]) ?? "");
        var fresh = type is null ? null : objects.Store.Get(type.StorageKey, Meta.Namespace(owner), Meta.Name(owner));
        return fresh is not null && fresh.Uid == Meta.Uid(owner) && !Meta.IsDeleting(fresh.Value);
    }

    private static string OwnerGroup(JsonObject owner)
    {
        var apiVersion = Json.String(owner["apiVersion"]) ?? "";
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? "" : apiVersion[..slash];
    }

    private static JsonObject? Adopt(ObjectService objects, WriteOptions writes, ResourceType type, JsonObject candidate, JsonObject owner)
    {
        try
        {
            return objects.Patch(type, type.PreferredVersion, Meta.Namespace(candidate), Meta.Name(candidate), current =>
            {
                // The patch carries the candidate's UID and fails when the object was replaced or adopted meanwhile.
                if (Meta.Uid(current!) != Meta.Uid(candidate) || ControllerOf(current!) is not null)
                {
                    throw ApiException.Conflict(type, Meta.Name(candidate), "the object changed while it was being adopted");
                }

                var refs = current!["metadata"]?["ownerReferences"] as JsonArray ?? [];
                refs.Add(NewControllerRef(owner));
                Meta.Of(current)["ownerReferences"] = refs;
                return current;
            }, writes, null, createIfMissing: false);
        }
        catch (ApiException error) when (error.Code is 404 or 409)
        {
            // Gone or taken by someone else: not ours.
            return null;
        }
    }

    private static void Release(ObjectService objects, WriteOptions writes, ResourceType type, JsonObject candidate, string ownerUid)
    {
        try
        {
            objects.Patch(type, type.PreferredVersion, Meta.Namespace(candidate), Meta.Name(candidate), current =>
            {
                if (Meta.Uid(current!) != Meta.Uid(candidate))
                {
                    throw ApiException.NotFound(type, Meta.Name(candidate));
                }

                var kept = (current!["metadata"]?["ownerReferences"] as JsonArray ?? [])
                    .OfType<JsonObject>()
                    .Where(r => Json.String(r["uid"]) != ownerUid)
                    .Select(r => (JsonNode)r.DeepClone())
                    .ToArray();
                if (kept.Length == 0)
                {
                    Meta.Of(current).Remove("ownerReferences");
                }
                else
                {
                    Meta.Of(current)["ownerReferences"] = new JsonArray(kept);
                }

                return current;
            }, writes, null, createIfMissing: false);
        }
        catch (ApiException error) when (error.Code is 404 or 409)
        {
            // Already gone: nothing to release.
        }
    }
}
