using System.Text.Json.Serialization;
using DeepSeekOperator.Api.Schema;
using k8s.Models;

namespace DeepSeekOperator.Api.V1Alpha1;

/// <summary>The observed state of a DeepSeekModel, written by the operator.</summary>
public sealed record DeepSeekModelStatus
{
    /// <summary>The metadata.generation this status was computed for.</summary>
    [JsonPropertyName("observedGeneration")]
    [Minimum(0)]
    public long? ObservedGeneration { get; init; }

    /// <summary>A one-word summary of the conditions.</summary>
    [JsonPropertyName("phase")]
    public ModelPhase? Phase { get; init; }

    /// <summary>The base URL of the OpenAI-compatible API, once the gateway Service exists.</summary>
    [JsonPropertyName("endpoint")]
    public string? Endpoint { get; init; }

    /// <summary>Routed experts per MoE layer of the loaded model.</summary>
    [JsonPropertyName("experts")]
    [Minimum(0)]
    public int? Experts { get; init; }

    /// <summary>Shards with at least one ready replica.</summary>
    [JsonPropertyName("readyShards")]
    [Minimum(0)]
    public int? ReadyShards { get; init; }

    /// <summary>Ready, Progressing, Degraded, ScalingLimited and PlacementBalanced, in the standard condition shape.</summary>
    [JsonPropertyName("conditions")]
    [ListMap("type")]
    public IList<V1Condition>? Conditions { get; init; }

    /// <summary>Replica counts of the router Deployment.</summary>
    [JsonPropertyName("routers")]
    public ReplicaStatus? Routers { get; init; }

    /// <summary>Replica counts and expert slots of each shard.</summary>
    [JsonPropertyName("shards")]
    [ListMap("index")]
    public IList<ShardStatus>? Shards { get; init; }

    /// <summary>The expert placement in force.</summary>
    [JsonPropertyName("placement")]
    public PlacementStatus? Placement { get; init; }

    /// <summary>The autoscaler's last decisions.</summary>
    [JsonPropertyName("autoscaling")]
    public AutoscalingStatus? Autoscaling { get; init; }
}

/// <summary>Replica counts of a Deployment.</summary>
public record ReplicaStatus
{
    /// <summary>Pods that exist.</summary>
    [JsonPropertyName("replicas")]
    [Minimum(0)]
    public int Replicas { get; init; }

    /// <summary>Pods that pass their readiness probe.</summary>
    [JsonPropertyName("readyReplicas")]
    [Minimum(0)]
    public int ReadyReplicas { get; init; }
}

/// <summary>The state of one expert shard.</summary>
public sealed record ShardStatus : ReplicaStatus
{
    /// <summary>The shard's index, from 0.</summary>
    [JsonPropertyName("index")]
    [Minimum(0)]
    public required int Index { get; init; }

    /// <summary>Expert slots per MoE layer this shard holds.</summary>
    [JsonPropertyName("experts")]
    [Minimum(0)]
    public int Experts { get; init; }
}

/// <summary>The expert placement in force.</summary>
public sealed record PlacementStatus
{
    /// <summary>The ConfigMap holding the placement.</summary>
    [JsonPropertyName("configMap")]
    public string? ConfigMap { get; init; }

    /// <summary>The placement revision every shard and router has switched to.</summary>
    [JsonPropertyName("revision")]
    [Minimum(0)]
    public long Revision { get; init; }

    /// <summary>Max over mean shard load under this placement, from the last observed load (1 is perfectly balanced).</summary>
    [JsonPropertyName("imbalance")]
    [Minimum(0)]
    public double? Imbalance { get; init; }

    /// <summary>Max over mean shard load under the placement this revision replaced, from the load it was planned for.</summary>
    [JsonPropertyName("imbalanceBefore")]
    [Minimum(0)]
    public double? ImbalanceBefore { get; init; }
}

/// <summary>The autoscaler's last decisions.</summary>
public sealed record AutoscalingStatus
{
    /// <summary>When replicas were last changed.</summary>
    [JsonPropertyName("lastScaleTime")]
    public DateTime? LastScaleTime { get; init; }

    /// <summary>The routers' decision.</summary>
    [JsonPropertyName("routers")]
    public ScalingDecision? Routers { get; init; }

    /// <summary>Each shard's decision.</summary>
    [JsonPropertyName("shards")]
    [ListMap("index")]
    public IList<ShardScalingDecision>? Shards { get; init; }
}

/// <summary>One component's scaling decision.</summary>
public record ScalingDecision
{
    /// <summary>Replicas when the decision was made.</summary>
    [JsonPropertyName("current")]
    [Minimum(0)]
    public int Current { get; init; }

    /// <summary>Replicas the autoscaler asked for.</summary>
    [JsonPropertyName("desired")]
    [Minimum(0)]
    public int Desired { get; init; }

    /// <summary>The per-replica metric value the decision was based on; absent when Prometheus did not answer.</summary>
    [JsonPropertyName("metricValue")]
    public double? MetricValue { get; init; }
}

/// <summary>One shard's scaling decision.</summary>
public sealed record ShardScalingDecision : ScalingDecision
{
    /// <summary>The shard's index.</summary>
    [JsonPropertyName("index")]
    [Minimum(0)]
    public required int Index { get; init; }
}

/// <summary>The condition types of a DeepSeekModel.</summary>
public static class ConditionTypes
{
    /// <summary>Every router and shard has a ready replica and the endpoint serves.</summary>
    public const string Ready = "Ready";

    /// <summary>Children are being created or rolled out.</summary>
    public const string Progressing = "Progressing";

    /// <summary>Serving with fewer ready replicas than desired.</summary>
    public const string Degraded = "Degraded";

    /// <summary>The autoscaler is held at a bound or cannot read its metrics.</summary>
    public const string ScalingLimited = "ScalingLimited";

    /// <summary>The expert placement is within the configured imbalance.</summary>
    public const string PlacementBalanced = "PlacementBalanced";
}
