using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children.Internal;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children;

/// <summary>
/// The objects a DeepSeekModel should own, as computed from its spec, its model's architecture and the operator's
/// settings; the reconciler converges the cluster towards them. Every object carries the model as its controller owner
/// and the standard <c>app.kubernetes.io/*</c> labels (<see cref="ChildLabels"/>).
/// </summary>
public sealed record ModelChildren
{
    /// <summary>The pods' identity, <c>&lt;model&gt;-serving</c>.</summary>
    public required V1ServiceAccount ServiceAccount { get; init; }

    /// <summary>Get, list and watch on <c>endpointslices</c>, nothing else.</summary>
    public required V1Role Role { get; init; }

    /// <summary>Binds <see cref="Role"/> to <see cref="ServiceAccount"/>.</summary>
    public required V1RoleBinding RoleBinding { get; init; }

    /// <summary>The expert placement routers dispatch with: <see cref="PlacementConfigMap"/>'s <c>placement.json</c>.</summary>
    public required ExpertPlacement Placement { get; init; }

    /// <summary>
    /// <c>&lt;model&gt;-placement</c>, the routers' part of the record of the published placement
    /// (<see cref="PublishedPlacement"/>): key <c>placement.json</c>, mounted in router pods. Without data when the
    /// published placement fits the spec and is to be left as it is.
    /// </summary>
    public required V1ConfigMap PlacementConfigMap { get; init; }

    /// <summary>
    /// <c>&lt;model&gt;-placement-shard-&lt;k&gt;</c> in shard order, the placement each shard loads: key
    /// <c>placement.json</c>, mounted in shard k's pods. Without data when the published placement is left as it is.
    /// </summary>
    public required IReadOnlyList<V1ConfigMap> ShardPlacementConfigMaps { get; init; }

    /// <summary><c>&lt;model&gt;-config</c>, key <c>serving.json</c>: the serving settings.</summary>
    public required V1ConfigMap ConfigConfigMap { get; init; }

    /// <summary><c>&lt;model&gt;-router</c>.</summary>
    public required V1Deployment RouterDeployment { get; init; }

    /// <summary><c>&lt;model&gt;-shard-&lt;k&gt;</c>, in shard order.</summary>
    public required IReadOnlyList<V1Deployment> ShardDeployments { get; init; }

    /// <summary>The headless <c>&lt;model&gt;-shard-&lt;k&gt;</c>, in shard order.</summary>
    public required IReadOnlyList<V1Service> ShardServices { get; init; }

    /// <summary><c>&lt;model&gt;</c>: the model's endpoint, in front of the routers.</summary>
    public required V1Service GatewayService { get; init; }

    /// <summary>The routers' budget, then one per shard.</summary>
    public required IReadOnlyList<V1PodDisruptionBudget> DisruptionBudgets { get; init; }

    /// <summary><c>&lt;model&gt;-routers</c> and <c>&lt;model&gt;-shards</c>.</summary>
    public required IReadOnlyList<V1NetworkPolicy> NetworkPolicies { get; init; }

    /// <summary><c>&lt;model&gt;</c>, to apply only where the <c>monitoring.coreos.com</c> CRD exists.</summary>
    public required ServiceMonitor ServiceMonitor { get; init; }

    /// <summary>The base URL of the OpenAI-compatible API, through the gateway Service's cluster DNS name.</summary>
    public required string Endpoint { get; init; }

    /// <summary>
    /// Every built-in object in the order to create them: identity and configuration before the workloads that use
    /// them, Services and policies last. <see cref="ServiceMonitor"/> is not among them.
    /// </summary>
    public IEnumerable<IKubernetesObject<V1ObjectMeta>> BuiltIn =>
    [
        ServiceAccount, Role, RoleBinding, PlacementConfigMap, .. ShardPlacementConfigMaps, ConfigConfigMap, RouterDeployment,
        .. ShardDeployments, .. ShardServices, GatewayService, .. DisruptionBudgets, .. NetworkPolicies,
    ];

    /// <summary>The children of <paramref name="model"/>.</summary>
    /// <param name="model">A DeepSeekModel read from the API server (with namespace and uid) that passed schema validation.</param>
    /// <param name="config">The model's architecture: its checkpoint's config.json, or <see cref="PresetConfig"/> for a synthetic source.</param>
    /// <param name="settings">The operator's settings.</param>
    /// <param name="horizontalPodAutoscalers">
    /// The Deployments of the namespace that HorizontalPodAutoscalers scale (<see cref="ReplicaOwnership.Targets"/>):
    /// those of the model are built with the spec's count and left to their autoscaler afterwards.
    /// </param>
    /// <param name="publishedPlacement">
    /// The ConfigMap of a name in the model's namespace as it is (null when there is none), for the placement
    /// ConfigMaps: kept while they fit the spec, else followed by a Contiguous placement at their next revision;
    /// revision 1 when there are none. Null: there are none.
    /// </param>
    /// <exception cref="InvalidModelSpecException">A field makes a child impossible (a name too long, more shards than experts …); it names the field.</exception>
    public static ModelChildren Build(DeepSeekModel model, ModelConfig config, OperatorSettings settings, IReadOnlyDictionary<string, string>? horizontalPodAutoscalers = null, Func<string, V1ConfigMap?>? publishedPlacement = null)
    {
        var context = ChildContext.Create(model, config, settings) with { HorizontalPodAutoscalers = horizontalPodAutoscalers ?? new Dictionary<string, string>() };
        var shards = Enumerable.Range(0, model.Spec.Experts.Shards).ToList();
        var (placement, kept) = Internal.PlacementConfigMap.Resolve(context, publishedPlacement ?? (_ => null));
        var endpoint = $"http://{context.Name}.{context.Namespace}.svc.{settings.ClusterDomain}:{model.Spec.Serving.Port}/v1";
        return new ModelChildren
        {
            ServiceAccount = ServingRbac.ServiceAccount(context),
            Role = ServingRbac.Role(context),
            RoleBinding = ServingRbac.RoleBinding(context),
            Placement = placement.Routers,
            PlacementConfigMap = Internal.PlacementConfigMap.Routers(context, kept ? null : placement),
            ShardPlacementConfigMaps = [.. shards.Select(k => Internal.PlacementConfigMap.Shard(context, k, kept ? null : placement))],
            ConfigConfigMap = ServingConfigMap.Build(context, endpoint),
            RouterDeployment = Internal.RouterDeployment.Build(context),
            ShardDeployments = [.. shards.Select(k => ShardWorkloads.Deployment(context, k))],
            ShardServices = [.. shards.Select(k => ShardWorkloads.Service(context, k))],
            GatewayService = Internal.GatewayService.Build(context),
            DisruptionBudgets = [Internal.DisruptionBudgets.Router(context), .. shards.Select(k => Internal.DisruptionBudgets.Shard(context, k))],
            NetworkPolicies = [Internal.NetworkPolicies.Routers(context), Internal.NetworkPolicies.Shards(context)],
            ServiceMonitor = ServiceMonitors.Build(context),
            Endpoint = endpoint,
        };
    }

    /// <summary>The name of <paramref name="model"/>'s routers' placement ConfigMap (<see cref="PublishedPlacement.RoutersConfigMap"/>).</summary>
    public static string PlacementConfigMapName(DeepSeekModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return PublishedPlacement.RoutersConfigMap(model.Metadata.Name);
    }

    /// <summary>The architecture of a synthetic source's preset; null for a checkpoint, whose config.json must be read.</summary>
    public static ModelConfig? PresetConfig(ModelSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Synthetic?.Preset switch
        {
            null => null,
            Api.V1Alpha1.SyntheticPreset.Tiny => SyntheticModel.Config(Moe.SyntheticPreset.Tiny),
            Api.V1Alpha1.SyntheticPreset.Small => SyntheticModel.Config(Moe.SyntheticPreset.Small),
            var preset => throw new ArgumentOutOfRangeException(nameof(source), preset, "not a synthetic preset"),
        };
    }
}
