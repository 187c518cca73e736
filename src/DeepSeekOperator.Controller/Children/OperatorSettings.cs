namespace DeepSeekOperator.Controller.Children;

/// <summary>The operator's own settings that shape every model's children, beside the model's spec.</summary>
public sealed record OperatorSettings
{
    /// <summary>The image of routers and shards for a model whose <c>spec.runtime.image</c> is unset.</summary>
    public required string RuntimeImage { get; init; }

    /// <summary>The namespace Prometheus runs in: the only one whose pods the NetworkPolicy lets scrape the shards' metrics port.</summary>
    public string PrometheusNamespace { get; init; } = "monitoring";

    /// <summary>The cluster's DNS domain, for the gateway endpoint written into the config ConfigMap.</summary>
    public string ClusterDomain { get; init; } = "cluster.local";

    /// <summary>How long a pod may take to load its weights before its startup probe gives up and it is restarted.</summary>
    public TimeSpan ModelLoadTimeout { get; init; } = TimeSpan.FromMinutes(30);
}
