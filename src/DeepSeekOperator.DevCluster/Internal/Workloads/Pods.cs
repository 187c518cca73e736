using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// What the workload controllers read from pods, as <c>k8s.io/kubernetes/pkg/api/v1/pod</c> and
/// <c>pkg/controller</c> read it: phase, readiness, availability after <c>minReadySeconds</c>, restarts.
/// </summary>
internal static class Pods
{
    public static string Phase(JsonObject pod) => Json.String(pod["status"]?["phase"]) ?? "";

    public static string NodeName(JsonObject pod) => Json.String(pod["spec"]?["nodeName"]) ?? "";

    /// <summary>Neither finished nor being deleted (<c>controller.IsPodActive</c>).</summary>
    public static bool IsActive(JsonObject pod) => Phase(pod) is not ("Succeeded" or "Failed") && !Meta.IsDeleting(pod);

    /// <summary>The pod's <c>Ready</c> condition, if it has one.</summary>
    public static JsonObject? ReadyCondition(JsonObject pod) =>
        (pod["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Json.String(c["type"]) == "Ready");

    /// <summary>The <c>Ready</c> condition is <c>True</c> (<c>podutil.IsPodReady</c>).</summary>
    public static bool IsReady(JsonObject pod) => ReadyCondition(pod) is { } ready && Json.String(ready["status"]) == "True";

    /// <summary>When the pod last became ready; null when it is not ready or the time is unknown.</summary>
    public static DateTimeOffset? ReadySince(JsonObject pod) =>
        IsReady(pod) ? Meta.ParseTime(Json.String(ReadyCondition(pod)!["lastTransitionTime"])) : null;

    /// <summary>
    /// Ready for at least <paramref name="minReadySeconds"/> (<c>podutil.IsPodAvailable</c>): the Ready condition's
    /// <c>lastTransitionTime</c> plus the delay lies before <paramref name="now"/>.
    /// </summary>
    public static bool IsAvailable(JsonObject pod, long minReadySeconds, DateTimeOffset now)
    {
        if (!IsReady(pod))
        {
            return false;
        }

        return minReadySeconds == 0 || (ReadySince(pod) is { } since && since.AddSeconds(minReadySeconds) < now);
    }

    /// <summary>When a ready pod that is not yet available becomes available; null for other pods.</summary>
    public static DateTimeOffset? AvailableAt(JsonObject pod, long minReadySeconds, DateTimeOffset now) =>
        minReadySeconds > 0 && !IsAvailable(pod, minReadySeconds, now) && ReadySince(pod) is { } since ? since.AddSeconds(minReadySeconds) : null;

    /// <summary>Phase Running and Ready (the StatefulSet controller's <c>isRunningAndReady</c>).</summary>
    public static bool IsRunningAndReady(JsonObject pod) => Phase(pod) == "Running" && IsReady(pod);

    /// <summary>The highest restart count among the pod's containers.</summary>
    public static long MaxRestarts(JsonObject pod) =>
        (pod["status"]?["containerStatuses"] as JsonArray)?.OfType<JsonObject>().Select(s => Json.Int64(s["restartCount"]) ?? 0).DefaultIfEmpty(0).Max() ?? 0;

    /// <summary>The <c>controller.kubernetes.io/pod-deletion-cost</c> annotation; 0 when absent or not an int32.</summary>
    public static int DeletionCost(JsonObject pod) =>
        pod["metadata"]?["annotations"]?["controller.kubernetes.io/pod-deletion-cost"] is JsonValue v
        && int.TryParse(v.ToString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var cost)
            ? cost
            : 0;

    public static DateTimeOffset? Created(JsonObject obj) => Meta.ParseTime(Meta.String(obj, "creationTimestamp"));

    /// <summary>
    /// A pod for <paramref name="template"/> owned by <paramref name="controllerRef"/> (<c>controller.GetPodFromTemplate</c>):
    /// the template's labels, annotations and finalizers, and its spec.
    /// </summary>
    public static JsonObject FromTemplate(JsonNode? template, JsonObject controllerRef)
    {
        var metadata = new JsonObject();
        foreach (var field in new[] { "labels", "annotations", "finalizers" })
        {
            if (template?["metadata"]?[field] is JsonNode value)
            {
                metadata[field] = value.DeepClone();
            }
        }

        metadata["ownerReferences"] = new JsonArray(controllerRef.DeepClone());
        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = metadata,
            ["spec"] = template?["spec"]?.DeepClone() ?? new JsonObject(),
        };
    }
}
