using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace DeepSeekOperator.Api.V1Alpha1;

/// <summary>The number format the model's weights are held in.</summary>
[SuppressMessage("Naming", "CA1720", Justification = "The members are the names of number formats.")]
[JsonConverter(typeof(JsonStringEnumConverter<ModelDtype>))]
public enum ModelDtype
{
    /// <summary>32-bit IEEE floating point.</summary>
    [JsonStringEnumMemberName("float32")] Float32,

    /// <summary>bfloat16, the checkpoint format of DeepSeek models.</summary>
    [JsonStringEnumMemberName("bfloat16")] BFloat16,

    /// <summary>16-bit IEEE floating point.</summary>
    [JsonStringEnumMemberName("float16")] Float16,
}

/// <summary>Where the model runs.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ComputeDevice>))]
public enum ComputeDevice
{
    /// <summary>On CPU cores.</summary>
    [JsonStringEnumMemberName("cpu")] Cpu,

    /// <summary>On NVIDIA GPUs; pods request <c>nvidia.com/gpu</c>.</summary>
    [JsonStringEnumMemberName("cuda")] Cuda,
}

/// <summary>When the kubelet pulls the runtime image.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PullPolicy>))]
public enum PullPolicy
{
    /// <summary>On every pod start.</summary>
    [JsonStringEnumMemberName("Always")] Always,

    /// <summary>Only when the node does not have it.</summary>
    [JsonStringEnumMemberName("IfNotPresent")] IfNotPresent,

    /// <summary>Never; the image must already be on the node.</summary>
    [JsonStringEnumMemberName("Never")] Never,
}

/// <summary>A model generated from a fixed shape and seed, for demos and tests.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SyntheticPreset>))]
public enum SyntheticPreset
{
    /// <summary>A few layers and experts, small enough for CPU tests.</summary>
    [JsonStringEnumMemberName("tiny")] Tiny,

    /// <summary>The layer layout of DeepSeek-V3 at a reduced width, for load tests on CPU.</summary>
    [JsonStringEnumMemberName("small")] Small,
}

/// <summary>How routed experts are assigned to shards.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PlacementStrategy>))]
public enum PlacementStrategy
{
    /// <summary>Shard k holds experts [k·E/S, (k+1)·E/S) of every layer; never rebalanced.</summary>
    [JsonStringEnumMemberName("Contiguous")] Contiguous,

    /// <summary>Expert-parallel load balancing (EPLB) from observed per-expert load, with copies of hot experts in redundant slots.</summary>
    [JsonStringEnumMemberName("Balanced")] Balanced,
}

/// <summary>The load metric routers are scaled on, per replica.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RouterMetric>))]
public enum RouterMetric
{
    /// <summary>Requests being served (<c>dsop_router_inflight_requests</c>).</summary>
    [JsonStringEnumMemberName("inflightRequests")] InflightRequests,

    /// <summary>Requests waiting for a batch slot (<c>dsop_router_queue_depth</c>).</summary>
    [JsonStringEnumMemberName("queueDepth")] QueueDepth,

    /// <summary>Prompt and generated tokens per second (<c>dsop_router_tokens_total</c>).</summary>
    [JsonStringEnumMemberName("tokensPerSecond")] TokensPerSecond,
}

/// <summary>The load metric each expert shard is scaled on, per replica.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ShardMetric>))]
public enum ShardMetric
{
    /// <summary>Tokens processed per second (<c>dsop_shard_tokens_total</c>).</summary>
    [JsonStringEnumMemberName("tokensPerSecond")] TokensPerSecond,

    /// <summary>Seconds spent in Forward per second, 0 to 1 per replica (<c>dsop_shard_forward_seconds</c>).</summary>
    [JsonStringEnumMemberName("forwardUtilization")] ForwardUtilization,
}

/// <summary>A summary of the model's state.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ModelPhase>))]
public enum ModelPhase
{
    /// <summary>Accepted; children not created yet.</summary>
    [JsonStringEnumMemberName("Pending")] Pending,

    /// <summary>Children are being created or rolled out.</summary>
    [JsonStringEnumMemberName("Progressing")] Progressing,

    /// <summary>Every router and shard is ready; the endpoint serves.</summary>
    [JsonStringEnumMemberName("Ready")] Ready,

    /// <summary>Serving, but with fewer ready replicas than desired.</summary>
    [JsonStringEnumMemberName("Degraded")] Degraded,

    /// <summary>Cannot be served until the spec or the cluster changes; see the Ready condition.</summary>
    [JsonStringEnumMemberName("Failed")] Failed,
}
