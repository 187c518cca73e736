using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using k8s.Models;

namespace DeepSeekOperator.Controller.Rbac;

/// <summary>The verbs the operator is granted on one resource of one API group.</summary>
/// <param name="ApiGroup">The API group; empty for the core group.</param>
/// <param name="Resource">The plural resource, with <c>/subresource</c> where the grant is on one.</param>
/// <param name="Verbs">The verbs, in the order Kubernetes documents them.</param>
public sealed record PermissionRule(string ApiGroup, string Resource, IReadOnlyList<string> Verbs)
{
    /// <summary>Whether this rule grants <paramref name="verb"/> on <paramref name="resource"/> of <paramref name="apiGroup"/>.</summary>
    public bool Grants(string apiGroup, string resource, string verb) =>
        ApiGroup == apiGroup && Resource == resource && Verbs.Contains(verb);

    /// <summary>This rule as an RBAC policy rule.</summary>
    public V1PolicyRule ToPolicyRule() => new() { ApiGroups = [ApiGroup], Resources = [Resource], Verbs = [.. Verbs] };
}

/// <summary>
/// Every permission the operator holds, and nothing more: the one source of truth that <see cref="OperatorRbac"/>
/// writes to <c>config/rbac</c>. Each verb is the one a call in the code makes, named beside it.
/// </summary>
public static class OperatorPermissions
{
    private static readonly string[] Cache = ["get", "list", "watch"];
    private static readonly string[] Owned = ["list", "watch", "create", "update"];
    private static readonly string[] OwnedAndPruned = [.. Owned, "delete"];

    /// <summary>
    /// What the operator does in every namespace (the ClusterRole): it caches the models and their children
    /// (<c>Informer</c>: list and watch) and reads the children from those caches only, creates and replaces children
    /// (<c>ChildClient</c>: create, update), reads a model afresh and replaces its status (<c>DeepSeekModelReconciler</c>),
    /// records Events (<c>EventRecorder</c>: create), runs the pods that read a checkpoint's config.json
    /// (<c>DeepSeekModelReconciler</c>: create, and delete those of an earlier source; cached by an informer), deletes
    /// the shards' Deployments, Services, PodDisruptionBudgets and placement ConfigMaps beyond a reduced shard count
    /// (<c>DeepSeekModelReconciler</c>: delete), and where the Prometheus Operator's CRD exists (<c>ServiceMonitorCrd</c>:
    /// get) reads, creates and replaces ServiceMonitors (<c>ChildClient</c>; not cached, so neither listed nor watched). It caches
    /// HorizontalPodAutoscalers, to leave the replicas of the Deployments they
    /// target alone (<c>DeepSeekModelController</c>: list and watch), and the autoscaler writes the replicas of router
    /// and shard Deployments through their scale subresource (<c>ModelAutoscaler</c>: patch).
    /// The rebalancer caches the models and router pods, lists and replaces the placement ConfigMaps, and writes status and Events.
    /// </summary>
    public static IReadOnlyList<PermissionRule> ClusterWide { get; } =
    [
        new(DeepSeekModel.Group, DeepSeekModel.Plural, Cache),
        new(DeepSeekModel.Group, DeepSeekModel.Plural + "/status", ["update"]),
        new("", "configmaps", OwnedAndPruned),
        new("", "services", OwnedAndPruned),
        new("", "serviceaccounts", Owned),
        new("", "events", ["create"]),
        new("", "pods", ["list", "watch", "create", "delete"]),
        new("apps", "deployments", OwnedAndPruned),
        new("apps", "deployments/scale", ["patch"]),
        new("autoscaling", "horizontalpodautoscalers", ["list", "watch"]),
        new("policy", "poddisruptionbudgets", OwnedAndPruned),
        new("networking.k8s.io", "networkpolicies", Owned),
        new("rbac.authorization.k8s.io", "roles", Owned),
        new("rbac.authorization.k8s.io", "rolebindings", Owned),
        new("apiextensions.k8s.io", "customresourcedefinitions", ["get"]),
        new(ServiceMonitor.Group, ServiceMonitor.Plural, ["get", "create", "update"]),

        // Never called by the operator: RBAC lets it create a Role, or bind one, only with the permissions the Role
        // grants (the serving pods' endpointslices read, ServingRbac), which is narrower than the escalate and bind verbs.
        new("discovery.k8s.io", "endpointslices", Cache),
    ];

    /// <summary>
    /// What the operator does in its own namespace only (the leader election Role): it reads, creates and renews the
    /// coordination.k8s.io Lease (<c>LeaderElector</c>'s <c>LeaseLock</c>, and <c>OperatorHost</c> giving it up on stop).
    /// </summary>
    public static IReadOnlyList<PermissionRule> LeaderElection { get; } =
    [
        new("coordination.k8s.io", "leases", ["get", "create", "update"]),
    ];
}
