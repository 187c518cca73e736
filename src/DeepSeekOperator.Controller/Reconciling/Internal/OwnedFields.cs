using System.Text.Json.Nodes;
using DeepSeekOperator.Controller.Children;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// The fields of a child the operator owns: its labels, annotations and owner references, and every top-level field
/// besides <c>apiVersion</c>, <c>kind</c>, <c>metadata</c> and <c>status</c> (a Deployment's <c>spec</c>, a
/// ConfigMap's <c>data</c>, a Role's <c>rules</c> …).
/// </summary>
/// <remarks>
/// A live object differs from the desired one only where a value the operator sets is missing or different; fields the
/// server defaults or allocates (a Deployment's <c>strategy</c>, a Service's <c>clusterIP</c>, a container's
/// <c>terminationMessagePath</c>) are not among the desired fields, so a second reconcile writes nothing. Lists are
/// compared element by element and must have the same length. A field the operator stops setting is not removed. A
/// router or shard Deployment's <c>spec.replicas</c> is owned only while <see cref="ReplicaOwnership.ReplicasOwned"/>:
/// otherwise an autoscaler sets it, and the live count is kept.
/// </remarks>
internal static class OwnedFields
{
    private static readonly HashSet<string> NotOwned = ["apiVersion", "kind", "metadata", "status"];

    /// <summary>Whether <paramref name="live"/> already holds every owned field of <paramref name="desired"/>.</summary>
    public static bool Match(IKubernetesObject<V1ObjectMeta> desired, IKubernetesObject<V1ObjectMeta> live)
    {
        var want = Owned(desired);
        var have = ToJson(live);
        return Contains(have["metadata"]?["labels"], want["metadata"]?["labels"])
            && Contains(have["metadata"]?["annotations"], want["metadata"]?["annotations"])
            && JsonNode.DeepEquals(have["metadata"]?["ownerReferences"], want["metadata"]?["ownerReferences"])
            && want.Where(field => !NotOwned.Contains(field.Key)).All(field => Contains(have[field.Key], field.Value));
    }

    /// <summary>
    /// <paramref name="live"/> with the owned fields of <paramref name="desired"/> written over it: labels and annotations
    /// merged, owner references replaced, and owned objects merged field by field so that allocated fields
    /// (a Service's <c>clusterIP</c>) are kept; its resourceVersion is the live one.
    /// </summary>
    public static string Merge(IKubernetesObject<V1ObjectMeta> desired, IKubernetesObject<V1ObjectMeta> live)
    {
        var want = Owned(desired);
        var result = ToJson(live);
        var metadata = result["metadata"]!.AsObject();
        foreach (var map in new[] { "labels", "annotations" })
        {
            if (want["metadata"]?[map] is JsonObject wanted)
            {
                Set(metadata, map, wanted);
            }
        }

        metadata["ownerReferences"] = want["metadata"]?["ownerReferences"]?.DeepClone();
        foreach (var (key, value) in want.Where(field => !NotOwned.Contains(field.Key)))
        {
            Set(result, key, value);
        }

        return result.ToJsonString();
    }

    // The desired object without the replicas an autoscaler sets.
    private static JsonObject Owned(IKubernetesObject<V1ObjectMeta> desired)
    {
        var want = ToJson(desired);
        if (desired is V1Deployment deployment && !ReplicaOwnership.ReplicasOwned(deployment))
        {
            want["spec"]?.AsObject().Remove("replicas");
        }

        return want;
    }

    private static JsonObject ToJson(IKubernetesObject<V1ObjectMeta> obj) => JsonNode.Parse(KubernetesJson.Serialize(obj))!.AsObject();

    // Whether every value set in want is also in have (lists by position, of the same length).
    private static bool Contains(JsonNode? have, JsonNode? want) => want switch
    {
        null => true,
        JsonObject wanted => have is JsonObject existing && wanted.All(field => Contains(existing[field.Key], field.Value)),
        JsonArray wanted => have is JsonArray existing && existing.Count == wanted.Count && wanted.Select((item, i) => Contains(existing[i], item)).All(same => same),
        _ => JsonNode.DeepEquals(have, want),
    };

    // Objects are merged field by field; anything else is replaced.
    private static void Set(JsonObject target, string key, JsonNode? value)
    {
        if (target[key] is JsonObject existing && value is JsonObject wanted)
        {
            foreach (var (field, item) in wanted)
            {
                Set(existing, field, item);
            }
        }
        else
        {
            target[key] = value?.DeepClone();
        }
    }
}
