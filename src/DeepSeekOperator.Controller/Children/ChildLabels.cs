namespace DeepSeekOperator.Controller.Children;

/// <summary>The label keys and values every child of a DeepSeekModel carries, for selectors and for people.</summary>
public static class ChildLabels
{
    /// <summary>The label naming the application: <see cref="AppName"/> on every child.</summary>
    public const string NameKey = "app.kubernetes.io/name";

    /// <summary>The label naming the model a child belongs to.</summary>
    public const string InstanceKey = "app.kubernetes.io/instance";

    /// <summary>The label naming a child's role, such as <see cref="Router"/> or <see cref="ShardComponent"/>.</summary>
    public const string ComponentKey = "app.kubernetes.io/component";

    /// <summary>The label naming the operator: <see cref="ManagedBy"/> on every child.</summary>
    public const string ManagedByKey = "app.kubernetes.io/managed-by";

    /// <summary>The label naming the whole a child is part of: the model.</summary>
    public const string PartOfKey = "app.kubernetes.io/part-of";

    /// <summary>The value of <c>app.kubernetes.io/name</c> on every child.</summary>
    public const string AppName = "deepseek-model";

    /// <summary>The value of <c>app.kubernetes.io/managed-by</c> on every child.</summary>
    public const string ManagedBy = "deepseek-operator";

    /// <summary>The label holding a shard's index on the shard's Deployment, Service, budget and pods.</summary>
    public const string Shard = "moe.deepseek-operator.io/shard";

    /// <summary>The <c>app.kubernetes.io/component</c> of the router Deployment, its pods and budget.</summary>
    public const string Router = "router";

    /// <summary>The <c>app.kubernetes.io/component</c> of a shard's Deployment, pods, Service and budget.</summary>
    public const string ShardComponent = "shard";

    /// <summary>The <c>app.kubernetes.io/component</c> of the gateway Service.</summary>
    public const string Gateway = "gateway";

    /// <summary>The <c>app.kubernetes.io/component</c> of the placement ConfigMap.</summary>
    public const string Placement = "placement";

    /// <summary>The <c>app.kubernetes.io/component</c> of the config ConfigMap.</summary>
    public const string Config = "config";

    /// <summary>The <c>app.kubernetes.io/component</c> of the pods' ServiceAccount, Role and RoleBinding.</summary>
    public const string Rbac = "rbac";

    /// <summary>The <c>app.kubernetes.io/component</c> of the ServiceMonitor.</summary>
    public const string Monitoring = "monitoring";

    /// <summary>The <c>app.kubernetes.io/component</c> of the pod that reads a checkpoint's config.json (<see cref="ModelConfigReader"/>).</summary>
    public const string ConfigReader = "config-reader";

    /// <summary>The <c>app.kubernetes.io/component</c> of the NetworkPolicies.</summary>
    public const string Network = "network";
}
