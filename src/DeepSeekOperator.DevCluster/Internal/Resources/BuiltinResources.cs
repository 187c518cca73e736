namespace DeepSeekOperator.DevCluster.Internal.Resources;

/// <summary>The built-in resources the emulator serves, with the rules kube-apiserver's registries give them.</summary>
internal static class BuiltinResources
{
    private static readonly ScaleSpec WorkloadScale = new(".spec.replicas", ".status.replicas", null);

    /// <summary>Every built-in resource, grouped as discovery lists them.</summary>
    public static IReadOnlyList<ResourceType> All { get; } =
    [
        Core("Namespace", "namespaces", namespaced: false, shortNames: ["ns"]) with
        {
            HasStatus = true,
            NameRule = NameRule.Label,
            ExtraSubresources = ["finalize"],
            Verbs = ["create", "delete", "get", "list", "patch", "update", "watch"],
        },
        Core("Pod", "pods", shortNames: ["po"], categories: ["all"]) with
        {
            HasStatus = true,
            ExtraSubresources = ["log", "binding"],
        },
        Core("Service", "services", shortNames: ["svc"], categories: ["all"]) with
        {
            HasStatus = true,
            NameRule = NameRule.Dns1035Label,
            Verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
        },
        Core("Endpoints", "endpoints", shortNames: ["ep"]) with { CreateOnUpdate = true },
        Core("ConfigMap", "configmaps", shortNames: ["cm"]),
        Core("Secret", "secrets"),
        Core("ServiceAccount", "serviceaccounts", shortNames: ["sa"]),
        Core("Event", "events", shortNames: ["ev"]) with { CreateOnUpdate = true },
        Core("Node", "nodes", namespaced: false, shortNames: ["no"]) with { HasStatus = true, CreateOnUpdate = true },
        Core("PersistentVolumeClaim", "persistentvolumeclaims", shortNames: ["pvc"]) with { HasStatus = true },
        Apps("Deployment", "deployments", ["deploy"]),
        Apps("StatefulSet", "statefulsets", ["sts"]),
        Apps("ReplicaSet", "replicasets", ["rs"]),
        Of("events.k8s.io", "Event", "events", shortNames: ["ev"]) with { CreateOnUpdate = true, StorageOverride = "events" },
        Of("policy", "PodDisruptionBudget", "poddisruptionbudgets", shortNames: ["pdb"]) with { HasStatus = true, HasGeneration = true },
        Of("networking.k8s.io", "NetworkPolicy", "networkpolicies", shortNames: ["netpol"]) with { HasGeneration = true },
        Of("discovery.k8s.io", "EndpointSlice", "endpointslices"),
        Of("coordination.k8s.io", "Lease", "leases") with { CreateOnUpdate = true },
        Of("rbac.authorization.k8s.io", "Role", "roles") with { NameRule = NameRule.PathSegment, CreateOnUpdate = true },
        Of("rbac.authorization.k8s.io", "RoleBinding", "rolebindings") with { NameRule = NameRule.PathSegment, CreateOnUpdate = true },
        Of("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", namespaced: false) with { NameRule = NameRule.PathSegment, CreateOnUpdate = true },
        Of("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", namespaced: false) with { NameRule = NameRule.PathSegment, CreateOnUpdate = true },
        Of("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers", version: "v2", shortNames: ["hpa"], categories: ["all"]) with { HasStatus = true },
        Of("apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", namespaced: false, shortNames: ["crd", "crds"]) with
        {
            HasStatus = true,
            HasGeneration = true,
            UnconditionalUpdate = false,
            Categories = ["api-extensions"],
        },
    ];

    private static ResourceType Core(string kind, string plural, bool namespaced = true, string[]? shortNames = null, string[]? categories = null) =>
        Of("", kind, plural, namespaced, "v1", shortNames, categories);

    private static ResourceType Apps(string kind, string plural, string[] shortNames) =>
        Of("apps", kind, plural, shortNames: shortNames, categories: ["all"]) with { HasStatus = true, HasGeneration = true, Scale = WorkloadScale };

    private static ResourceType Of(
        string group, string kind, string plural, bool namespaced = true, string version = "v1", string[]? shortNames = null, string[]? categories = null) => new()
        {
            Group = group,
            Versions = [version],
            Kind = kind,
            Plural = plural,
            Singular = kind.ToLowerInvariant(),
            Namespaced = namespaced,
            ShortNames = shortNames ?? [],
            Categories = categories ?? [],
        };
}
