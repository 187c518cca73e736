using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children;

/// <summary>
/// A Prometheus Operator <c>monitoring.coreos.com/v1</c> ServiceMonitor, kept as an untyped spec: the operator applies
/// it only where that CRD is installed and reads nothing back from it.
/// </summary>
public sealed class ServiceMonitor : IKubernetesObject<V1ObjectMeta>, ISpec<JsonObject>
{
    /// <summary>The API group.</summary>
    public const string Group = "monitoring.coreos.com";

    /// <summary>The API version within the group.</summary>
    public const string Version = "v1";

    /// <summary>The kind.</summary>
    public const string KindName = "ServiceMonitor";

    /// <summary>The resource name in URLs, and with the group the name of the CRD whose presence is checked.</summary>
    public const string Plural = "servicemonitors";

    /// <summary>APIVersion defines the versioned schema of this representation of an object.</summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = Group + "/" + Version;

    /// <summary>Kind is a string value representing the REST resource this object represents.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    /// <summary>Standard object metadata.</summary>
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>The Services to scrape (a label selector) and their ports and paths.</summary>
    [JsonPropertyName("spec")]
    public JsonObject Spec { get; set; } = [];
}
