using DeepSeekOperator.Api.V1Alpha1;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The replicas a router or shard Deployment is built with, and who sets them afterwards (<see cref="ReplicaOwnership"/>):
/// a HorizontalPodAutoscaler targeting it (created with the spec's count), else the operator's autoscaler when enabled
/// (its last decision in <c>status.autoscaling</c>, before any the spec's count, clamped to the bounds), else the spec.
/// </summary>
internal static class DeploymentReplicas
{
    public static V1Deployment Apply<TMetric>(ChildContext context, V1Deployment deployment, int specReplicas, ComponentAutoscaling<TMetric> bounds, ScalingDecision? decision)
        where TMetric : struct, Enum
    {
        var name = deployment.Metadata.Name;
        var (replicas, from) = context.HorizontalPodAutoscalers.TryGetValue(name, out var hpa)
            ? (specReplicas, ReplicaOwnership.HorizontalPodAutoscalerPrefix + hpa)
            : context.Spec.Autoscaling.Enabled
                ? (Math.Clamp(decision?.Desired is > 0 and var desired ? desired : specReplicas, bounds.MinReplicas, Math.Max(bounds.MinReplicas, bounds.MaxReplicas)), ReplicaOwnership.Autoscaler)
                : (specReplicas, ReplicaOwnership.Spec);
        deployment.Spec.Replicas = replicas;
        deployment.Metadata.Annotations = new Dictionary<string, string>(deployment.Metadata.Annotations ?? new Dictionary<string, string>()) { [ReplicaOwnership.AnnotationKey] = from };
        return deployment;
    }

    public static V1Deployment Router(ChildContext context, V1Deployment deployment) =>
        Apply(context, deployment, context.Spec.Router.Replicas, context.Spec.Autoscaling.Routers, context.Model.Status?.Autoscaling?.Routers);

    public static V1Deployment Shard(ChildContext context, V1Deployment deployment, int shard) =>
        Apply(context, deployment, context.Spec.Experts.ReplicasPerShard, context.Spec.Autoscaling.Shards,
            context.Model.Status?.Autoscaling?.Shards?.FirstOrDefault(decision => decision.Index == shard));
}
