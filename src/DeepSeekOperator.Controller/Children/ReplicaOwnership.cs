using k8s.Models;

namespace DeepSeekOperator.Controller.Children;

/// <summary>
/// Who sets a router or shard Deployment's replicas once it exists, recorded on the Deployment in the annotation
/// <see cref="AnnotationKey"/>: the spec (the reconciler writes them), the operator's autoscaler, or a
/// HorizontalPodAutoscaler (a KEDA ScaledObject's, or the user's own) whose <c>scaleTargetRef</c> names the Deployment.
/// Unless it is the spec, the reconciler creates the Deployment with its count and never writes the count afterwards.
/// </summary>
public static class ReplicaOwnership
{
    /// <summary>The annotation on router and shard Deployments naming who sets their replicas.</summary>
    public const string AnnotationKey = "moe.deepseek-operator.io/replicas-from";

    /// <summary>The reconciler writes <c>spec.router.replicas</c> or <c>spec.experts.replicasPerShard</c>.</summary>
    public const string Spec = "spec";

    /// <summary>The operator's autoscaler (<c>spec.autoscaling.enabled</c>).</summary>
    public const string Autoscaler = "autoscaler";

    /// <summary>The prefix of the value naming a HorizontalPodAutoscaler: <c>HorizontalPodAutoscaler/&lt;name&gt;</c>.</summary>
    public const string HorizontalPodAutoscalerPrefix = "HorizontalPodAutoscaler/";

    /// <summary>Whether the reconciler writes the replicas of <paramref name="deployment"/>, as built by <see cref="ModelChildren.Build"/>.</summary>
    public static bool ReplicasOwned(V1Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return deployment.Metadata.Annotations?.TryGetValue(AnnotationKey, out var from) != true || from == Spec;
    }

    /// <summary>
    /// The Deployments that HorizontalPodAutoscalers of <paramref name="ns"/> scale, by name, each with the name of the
    /// first (by name) that targets it.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Targets(IEnumerable<V2HorizontalPodAutoscaler> autoscalers, string ns)
    {
        ArgumentNullException.ThrowIfNull(autoscalers);
        return autoscalers
            .Where(hpa => hpa.Metadata.NamespaceProperty == ns && hpa.Spec?.ScaleTargetRef is { Kind: "Deployment", Name: not null } target
                && (target.ApiVersion is null || target.ApiVersion == "apps/v1"))
            .OrderBy(hpa => hpa.Metadata.Name, StringComparer.Ordinal)
            .GroupBy(hpa => hpa.Spec.ScaleTargetRef.Name, StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.First().Metadata.Name, StringComparer.Ordinal);
    }
}
