using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Runtime;
using k8s.Models;

namespace DeepSeekOperator.Controller.Reconciling;

/// <summary>The caches a <see cref="DeepSeekModelReconciler"/> reads: the models, and the children whose number follows the spec.</summary>
/// <param name="Models">The DeepSeekModels.</param>
/// <param name="Deployments">The Deployments the operator manages (routers and shards).</param>
/// <param name="Services">The Services it manages (gateways and shards' headless Services).</param>
/// <param name="DisruptionBudgets">The PodDisruptionBudgets it manages.</param>
/// <param name="HorizontalPodAutoscalers">Every HorizontalPodAutoscaler: a Deployment one targets keeps the replicas it sets.</param>
public sealed record ModelCaches(
    Informer<DeepSeekModel> Models,
    Informer<V1Deployment> Deployments,
    Informer<V1Service> Services,
    Informer<V1PodDisruptionBudget> DisruptionBudgets,
    Informer<V2HorizontalPodAutoscaler> HorizontalPodAutoscalers);
