using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>
/// The <c>pods/binding</c> subresource as kube-apiserver's <c>BindingREST</c> applies it: the pod gets its
/// <c>spec.nodeName</c> and a <c>PodScheduled=True</c> condition (replacing an <c>Unschedulable</c> one), unless it
/// is already bound, being deleted, gated, or a different pod than the binding names. Both the HTTP endpoint and the
/// in-process scheduler bind through here.
/// </summary>
internal static class PodBinding
{
    /// <summary>Binds pod <paramref name="ns"/>/<paramref name="name"/> to <paramref name="node"/>; <paramref name="uid"/>, when given, must be the pod's.</summary>
    public static JsonObject Bind(ObjectService objects, ResourceType pods, string version, string ns, string name, string node, string? uid, WriteOptions options)
    {
        var bindingType = pods with { Plural = "pods/binding" };
        return objects.Patch(pods, version, ns, name, current =>
        {
            var pod = current!;
            if (uid is { Length: > 0 } && Meta.Uid(pod) != uid)
            {
                throw ApiException.Conflict(bindingType, name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {Meta.Uid(pod)}");
            }

            if (Meta.IsDeleting(pod))
            {
                throw ApiException.Conflict(bindingType, name, $"pod {name} is being deleted, cannot be assigned to a host");
            }

            if (pod["spec"]?["nodeName"]?.ToString() is { Length: > 0 } assigned)
            {
                throw ApiException.Conflict(bindingType, name, $"pod {name} is already assigned to node \"{assigned}\"");
            }

            if (pod["spec"]?["schedulingGates"] is JsonArray { Count: > 0 })
            {
                throw ApiException.Conflict(bindingType, name, $"pod {name} has non-empty .spec.schedulingGates");
            }

            pod["spec"]!["nodeName"] = node;
            var status = pod["status"] as JsonObject ?? [];
            var conditions = status["conditions"] as JsonArray ?? [];
            var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.ToString() == "PodScheduled");
            var scheduled = new JsonObject
            {
                ["type"] = "PodScheduled",
                ["status"] = "True",
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = existing?["status"]?.ToString() == "True"
                    ? existing["lastTransitionTime"]?.DeepClone()
                    : Meta.Timestamp(objects.Time.GetUtcNow()),
            };
            if (existing is null)
            {
                conditions.Add(scheduled);
            }
            else
            {
                conditions[conditions.IndexOf(existing)] = scheduled;
            }

            status["conditions"] = conditions;
            pod["status"] = status;
            return pod;
        }, options, "binding", createIfMissing: false);
    }
}
