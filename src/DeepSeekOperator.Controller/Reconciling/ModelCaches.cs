using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Reconciling;

/// <summary>
/// The caches a <see cref="DeepSeekModelReconciler"/> reads instead of the API server: the models, one cache of each
/// built-in kind a model owns (the children it manages), and its config.json reader pods.
/// </summary>
/// <param name="Models">The DeepSeekModels.</param>
/// <param name="Deployments">The Deployments the operator manages (routers and shards).</param>
/// <param name="Services">The Services it manages (gateways and shards' headless Services).</param>
/// <param name="DisruptionBudgets">The PodDisruptionBudgets it manages.</param>
/// <param name="ConfigMaps">The ConfigMaps it manages (serving configuration and placement).</param>
/// <param name="ServiceAccounts">The serving pods' ServiceAccounts.</param>
/// <param name="Roles">The serving pods' Roles.</param>
/// <param name="RoleBindings">The serving pods' RoleBindings.</param>
/// <param name="NetworkPolicies">The NetworkPolicies it manages.</param>
/// <param name="ConfigReaders">The pods that read a checkpoint's config.json.</param>
/// <param name="HorizontalPodAutoscalers">Every HorizontalPodAutoscaler: a Deployment one targets keeps the replicas it sets.</param>
public sealed record ModelCaches(
    Informer<DeepSeekModel> Models,
    Informer<V1Deployment> Deployments,
    Informer<V1Service> Services,
    Informer<V1PodDisruptionBudget> DisruptionBudgets,
    Informer<V1ConfigMap> ConfigMaps,
    Informer<V1ServiceAccount> ServiceAccounts,
    Informer<V1Role> Roles,
    Informer<V1RoleBinding> RoleBindings,
    Informer<V1NetworkPolicy> NetworkPolicies,
    Informer<V1Pod> ConfigReaders,
    Informer<V2HorizontalPodAutoscaler> HorizontalPodAutoscalers)
{
    /// <summary>Every cache, for the controller to run and wait for.</summary>
    public IReadOnlyList<IInformer> All =>
        [Models, Deployments, Services, DisruptionBudgets, ConfigMaps, ServiceAccounts, Roles, RoleBindings, NetworkPolicies, ConfigReaders, HorizontalPodAutoscalers];

    /// <summary>The resourceVersion of the cached object of <paramref name="desired"/>'s kind, namespace and name, or null; nothing is deserialized.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The kind is not one of the cached built-in kinds.</exception>
    public string? ResourceVersionOf(IKubernetesObject<V1ObjectMeta> desired) => CacheOf(desired).ResourceVersionOf(ObjectKey.Of(desired));

    /// <summary>
    /// The cached object of <paramref name="desired"/>'s kind, namespace and name, or null when the cache has none.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The kind is not one of the cached built-in kinds.</exception>
    public IKubernetesObject<V1ObjectMeta>? Get(IKubernetesObject<V1ObjectMeta> desired) => CacheOf(desired).Get(ObjectKey.Of(desired));

    // The cache of the desired object's kind, as its two lookups.
    private (Func<ObjectKey, IKubernetesObject<V1ObjectMeta>?> Get, Func<ObjectKey, string?> ResourceVersionOf) CacheOf(IKubernetesObject<V1ObjectMeta> desired)
    {
        ArgumentNullException.ThrowIfNull(desired);
        return desired switch
        {
            V1Deployment => (Deployments.Get, Deployments.ResourceVersionOf),
            V1Service => (Services.Get, Services.ResourceVersionOf),
            V1PodDisruptionBudget => (DisruptionBudgets.Get, DisruptionBudgets.ResourceVersionOf),
            V1ConfigMap => (ConfigMaps.Get, ConfigMaps.ResourceVersionOf),
            V1ServiceAccount => (ServiceAccounts.Get, ServiceAccounts.ResourceVersionOf),
            V1Role => (Roles.Get, Roles.ResourceVersionOf),
            V1RoleBinding => (RoleBindings.Get, RoleBindings.ResourceVersionOf),
            V1NetworkPolicy => (NetworkPolicies.Get, NetworkPolicies.ResourceVersionOf),
            _ => throw new ArgumentOutOfRangeException(nameof(desired), desired.Kind, "not a kind the model's caches hold"),
        };
    }
}
