using System.Text.Json.Serialization;
using DeepSeekOperator.Api.Schema;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Api.V1Alpha1;

/// <summary>
/// A DeepSeek-V3-family Mixture-of-Experts model served by routers and expert shards. The operator turns it into
/// a router Deployment, one Deployment and headless Service per expert shard, a gateway Service with an
/// OpenAI-compatible API, and scales them from Prometheus load metrics.
/// </summary>
[KubernetesEntity(Group = Group, ApiVersion = Version, Kind = KindName, PluralName = Plural)]
[ShortNames(ShortName)]
[Categories("ai", "moe")]
[NameRestriction(Pattern = Patterns.DnsLabel, MaxLength = MaxNameLength,
    Reason = "The name prefixes child objects such as the Service <name>-shard-1023, which must be a DNS-1035 label of at most 63 characters.")]
[PrinterColumn("Ready", """.status.conditions[?(@.type=="Ready")].status""", "string", Order = 0, Description = "Whether the model serves requests")]
[PrinterColumn("Routers", ".status.routers.readyReplicas", "integer", Order = 1, Description = "Ready router replicas")]
[PrinterColumn("Shards", ".status.readyShards", "integer", Order = 2, Description = "Expert shards with a ready replica")]
[PrinterColumn("Experts", ".status.experts", "integer", Order = 3, Description = "Routed experts per MoE layer")]
[PrinterColumn("Placement", ".status.placement.revision", "integer", Order = 4, Description = "Revision of the expert placement in force")]
[PrinterColumn("Imbalance", ".status.placement.imbalance", "number", Order = 5, Description = "Max over mean shard load under that placement (1 is perfectly balanced)")]
[PrinterColumn("Endpoint", ".status.endpoint", "string", Order = 6, Description = "Base URL of the OpenAI-compatible API")]
[PrinterColumn("Desired Routers", ".status.autoscaling.routers.desired", "integer", Order = 7, Priority = 1, Description = "Router replicas the autoscaler last asked for")]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date", Order = 8)]
public sealed class DeepSeekModel : IKubernetesObject<V1ObjectMeta>, ISpec<DeepSeekModelSpec>, IStatus<DeepSeekModelStatus?>
{
    /// <summary>The API group.</summary>
    public const string Group = "moe.deepseek-operator.io";

    /// <summary>The API version within the group.</summary>
    public const string Version = "v1alpha1";

    /// <summary>The kind.</summary>
    public const string KindName = "DeepSeekModel";

    /// <summary>The resource name in URLs.</summary>
    public const string Plural = "deepseekmodels";

    /// <summary>The kind in lower case, as kubectl accepts it.</summary>
    public const string Singular = "deepseekmodel";

    /// <summary>The short name kubectl accepts.</summary>
    public const string ShortName = "dsm";

    /// <summary>The longest name: child names such as <c>&lt;name&gt;-shard-1023</c> must stay within 63 characters.</summary>
    public const int MaxNameLength = 52;

    /// <summary><c>group/version</c>, the value of <c>apiVersion</c>.</summary>
    public const string GroupVersion = Group + "/" + Version;

    /// <summary>APIVersion defines the versioned schema of this representation of an object.</summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = GroupVersion;

    /// <summary>Kind is a string value representing the REST resource this object represents.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    /// <summary>Standard object metadata. The name becomes the prefix of every child object's name.</summary>
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>The desired state: which model, how it is sharded, served and scaled.</summary>
    [JsonPropertyName("spec")]
    public required DeepSeekModelSpec Spec { get; set; }

    /// <summary>The observed state, written by the operator.</summary>
    [JsonPropertyName("status")]
    public DeepSeekModelStatus? Status { get; set; }
}
