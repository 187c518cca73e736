using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;
using DeepSeekOperator.Api.Schema;
using k8s.Models;

namespace DeepSeekOperator.Api.V1Alpha1;

// Defaults live in one place: the property initializers below. The CRD generator writes them into the schema
// (so the API server applies them), and DeepSeekModelManifest applies the same schema defaults to manifests read
// without an API server. Objects built by hand in C# get the same values from the same initializers.

/// <summary>The desired state of a DeepSeekModel.</summary>
public sealed record DeepSeekModelSpec : IHasCelRules
{
    /// <summary>Which model to serve and in what number format.</summary>
    [JsonPropertyName("model")]
    public required ModelSpec Model { get; init; }

    /// <summary>The container image and device the routers and shards run on.</summary>
    [JsonPropertyName("runtime")]
    public RuntimeSpec Runtime { get; init; } = new();

    /// <summary>The routers: they hold every weight but the routed experts, run attention and the gates, and serve the API.</summary>
    [JsonPropertyName("router")]
    public RouterSpec Router { get; init; } = new();

    /// <summary>The expert shards: each holds the routed experts of its placement for every MoE layer.</summary>
    [JsonPropertyName("experts")]
    public ExpertsSpec Experts { get; init; } = new();

    /// <summary>Scaling of routers and of each shard from Prometheus metrics. Off unless enabled.</summary>
    [JsonPropertyName("autoscaling")]
    public AutoscalingSpec Autoscaling { get; init; } = new();

    /// <summary>How routed experts are placed on shards and when placement is rebalanced.</summary>
    [JsonPropertyName("placement")]
    public PlacementSpec Placement { get; init; } = new();

    /// <summary>The OpenAI-compatible HTTP API the routers serve.</summary>
    [JsonPropertyName("serving")]
    public ServingSpec Serving { get; init; } = new();

    /// <inheritdoc />
    public static IReadOnlyList<CelRule> CelRules { get; } =
    [
        CelRule.For<DeepSeekModelSpec>(
            "!has(self.placement) || !has(self.placement.shardsPerNode) || (has(self.experts) && has(self.experts.shards) ? self.experts.shards : 1) % self.placement.shardsPerNode == 0",
            "placement.shardsPerNode must divide experts.shards",
            s => s.Placement.ShardsPerNode is not { } perNode || perNode < 1 || s.Experts.Shards % perNode == 0,
            ".placement.shardsPerNode"),
    ];
}

/// <summary>The model to serve.</summary>
public sealed record ModelSpec
{
    /// <summary>Where the Hugging Face checkpoint (config.json and safetensors) comes from.</summary>
    [JsonPropertyName("source")]
    public required ModelSource Source { get; init; }

    /// <summary>The number format weights are held in; FP8 checkpoints are dequantised on load.</summary>
    [JsonPropertyName("dtype")]
    public ModelDtype Dtype { get; init; } = ModelDtype.BFloat16;
}

/// <summary>The place a checkpoint is read from. Exactly one of the fields is set.</summary>
public sealed record ModelSource : IHasCelRules
{
    /// <summary>A PersistentVolumeClaim holding the checkpoint directory.</summary>
    [JsonPropertyName("pvc")]
    public PvcSource? Pvc { get; init; }

    /// <summary>A directory on every node that runs the model.</summary>
    [JsonPropertyName("hostPath")]
    public HostPathSource? HostPath { get; init; }

    /// <summary>An OCI image whose filesystem is the checkpoint directory, mounted as an image volume.</summary>
    [JsonPropertyName("image")]
    public ImageSource? Image { get; init; }

    /// <summary>Random weights generated from a preset shape and a seed, for demos and tests.</summary>
    [JsonPropertyName("synthetic")]
    public SyntheticSource? Synthetic { get; init; }

    /// <summary>The names of the set fields, in declaration order.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> SetFields =>
        [.. new (string Name, object? Value)[] { ("pvc", Pvc), ("hostPath", HostPath), ("image", Image), ("synthetic", Synthetic) }
            .Where(f => f.Value is not null).Select(f => f.Name)];

    /// <inheritdoc />
    public static IReadOnlyList<CelRule> CelRules { get; } =
    [
        CelRule.For<ModelSource>(
            "(has(self.pvc) ? 1 : 0) + (has(self.hostPath) ? 1 : 0) + (has(self.image) ? 1 : 0) + (has(self.synthetic) ? 1 : 0) == 1",
            "exactly one of pvc, hostPath, image or synthetic must be set",
            s => s.SetFields.Count == 1),
    ];
}

/// <summary>A checkpoint on a PersistentVolumeClaim, mounted read-only.</summary>
public sealed record PvcSource : IHasCelRules
{
    /// <summary>The name of the claim, in the model's namespace.</summary>
    [JsonPropertyName("claimName")]
    [Pattern(Patterns.DnsSubdomain), Length(Max = 253)]
    public required string ClaimName { get; init; }

    /// <summary>The checkpoint directory inside the volume, relative to its root.</summary>
    [JsonPropertyName("subPath")]
    [Pattern(Patterns.RelativePath), Length(Max = 4096)]
    public string? SubPath { get; init; }

    /// <inheritdoc />
    public static IReadOnlyList<CelRule> CelRules { get; } =
    [
        CelRule.For<PvcSource>(
            "!has(self.subPath) || !self.subPath.matches('" + Patterns.DotDotSegmentCel + "')",
            "subPath must not contain a '..' segment",
            s => s.SubPath is null || !Patterns.HasDotDotSegment(s.SubPath),
            ".subPath"),
    ];
}

/// <summary>A checkpoint in a directory of the node.</summary>
public sealed record HostPathSource : IHasCelRules
{
    /// <summary>The absolute path of the checkpoint directory on the node.</summary>
    [JsonPropertyName("path")]
    [Pattern(Patterns.AbsolutePath), Length(Max = 4096)]
    public required string Path { get; init; }

    /// <inheritdoc />
    public static IReadOnlyList<CelRule> CelRules { get; } =
    [
        CelRule.For<HostPathSource>(
            "!self.path.matches('" + Patterns.DotDotSegmentCel + "')",
            "path must not contain a '..' segment",
            s => !Patterns.HasDotDotSegment(s.Path),
            ".path"),
    ];
}

/// <summary>A checkpoint packaged as an OCI image.</summary>
public sealed record ImageSource
{
    /// <summary>The image reference, such as <c>registry.local/models/dsv3:1</c> or one pinned by digest.</summary>
    [JsonPropertyName("reference")]
    [Pattern(Patterns.ImageReference), Length(Max = 1024)]
    public required string Reference { get; init; }

    /// <summary>When the kubelet pulls the model image.</summary>
    [JsonPropertyName("pullPolicy")]
    public PullPolicy PullPolicy { get; init; } = PullPolicy.IfNotPresent;
}

/// <summary>Random weights of a fixed shape; the same preset and seed always give the same model.</summary>
public sealed record SyntheticSource
{
    /// <summary>The model shape.</summary>
    [JsonPropertyName("preset")]
    public SyntheticPreset Preset { get; init; } = SyntheticPreset.Tiny;

    /// <summary>The seed of the random weights.</summary>
    [JsonPropertyName("seed")]
    [Minimum(0), Maximum(int.MaxValue)]
    public long Seed { get; init; }

    /// <summary>How strongly the gate favours low-numbered experts, making expert load uneven: 0 (none) to 1 (strong).</summary>
    [JsonPropertyName("skew")]
    [Minimum(0), Maximum(1)]
    public double Skew { get; init; }
}

/// <summary>The container image and device the model runs on.</summary>
public sealed record RuntimeSpec
{
    /// <summary>The image of routers and shards; when unset, the operator's default runtime image.</summary>
    [JsonPropertyName("image")]
    [Pattern(Patterns.ImageReference), Length(Max = 1024)]
    public string? Image { get; init; }

    /// <summary>When the kubelet pulls the runtime image.</summary>
    [JsonPropertyName("imagePullPolicy")]
    public PullPolicy ImagePullPolicy { get; init; } = PullPolicy.IfNotPresent;

    /// <summary>Secrets in the model's namespace used to pull the runtime and model images.</summary>
    [JsonPropertyName("imagePullSecrets")]
    [MaxItems(16)]
    public IList<V1LocalObjectReference>? ImagePullSecrets { get; init; }

    /// <summary>Where the model runs; <c>cuda</c> makes every pod request <c>nvidia.com/gpu</c>.</summary>
    [JsonPropertyName("device")]
    public ComputeDevice Device { get; init; } = ComputeDevice.Cuda;
}

/// <summary>Scheduling and resources shared by routers and shards.</summary>
public abstract record WorkloadSpec
{
    /// <summary>Compute resources of each pod's model container.</summary>
    [JsonPropertyName("resources")]
    public V1ResourceRequirements? Resources { get; init; }

    /// <summary>Labels a node must have to run these pods.</summary>
    [JsonPropertyName("nodeSelector")]
    public IDictionary<string, string>? NodeSelector { get; init; }

    /// <summary>Taints these pods tolerate.</summary>
    [JsonPropertyName("tolerations")]
    public IList<V1Toleration>? Tolerations { get; init; }

    /// <summary>Node and pod affinity of these pods.</summary>
    [JsonPropertyName("affinity")]
    public V1Affinity? Affinity { get; init; }
}

/// <summary>The routers.</summary>
public sealed record RouterSpec : WorkloadSpec
{
    /// <summary>The number of router pods when autoscaling is off; the starting point when it is on.</summary>
    [JsonPropertyName("replicas")]
    [Minimum(1), Maximum(1024)]
    public int Replicas { get; init; } = 1;
}

/// <summary>The expert shards.</summary>
public sealed record ExpertsSpec : WorkloadSpec
{
    /// <summary>The expert-parallel degree: how many shards the routed experts are spread over.</summary>
    [JsonPropertyName("shards")]
    [Minimum(1), Maximum(1024)]
    public int Shards { get; init; } = 1;

    /// <summary>Interchangeable replicas of each shard when autoscaling is off; the starting point when it is on.</summary>
    [JsonPropertyName("replicasPerShard")]
    [Minimum(1), Maximum(256)]
    public int ReplicasPerShard { get; init; } = 1;

    /// <summary>Extra expert slots per shard per layer, which the placement planner fills with copies of hot experts.</summary>
    [JsonPropertyName("redundantSlots")]
    [Minimum(0), Maximum(256)]
    public int RedundantSlots { get; init; }
}

/// <summary>Scaling from Prometheus metrics.</summary>
public sealed record AutoscalingSpec : IHasCelRules
{
    /// <summary>Whether the operator scales routers and shards.</summary>
    [JsonPropertyName("enabled")]
    public bool Enabled { get; init; }

    /// <summary>The Prometheus HTTP API the metrics are read from, such as <c>http://prometheus-operated.monitoring:9090</c>.</summary>
    [JsonPropertyName("prometheusUrl")]
    [Pattern(Patterns.HttpUrl), Length(Max = 2048)]
    public string? PrometheusUrl { get; init; }

    /// <summary>How often the metrics are read and replicas recomputed, as a duration such as <c>15s</c>.</summary>
    [JsonPropertyName("interval")]
    [Duration("1s")]
    public string Interval { get; init; } = "15s";

    /// <summary>Bounds and target of the router Deployment.</summary>
    [JsonPropertyName("routers")]
    public ComponentAutoscaling<RouterMetric> Routers { get; init; } = new()
    {
        MinReplicas = 1,
        MaxReplicas = 8,
        Target = new() { Metric = RouterMetric.InflightRequests, AverageValue = 32 },
    };

    /// <summary>Bounds and target of each shard's Deployment; every shard is scaled on its own load.</summary>
    [JsonPropertyName("shards")]
    public ComponentAutoscaling<ShardMetric> Shards { get; init; } = new()
    {
        MinReplicas = 1,
        MaxReplicas = 4,
        Target = new() { Metric = ShardMetric.TokensPerSecond, AverageValue = 20000 },
    };

    /// <summary>How fast replicas may change.</summary>
    [JsonPropertyName("behavior")]
    public ScalingBehavior Behavior { get; init; } = new();

    /// <inheritdoc />
    public static IReadOnlyList<CelRule> CelRules { get; } =
    [
        CelRule.For<AutoscalingSpec>(
            "!has(self.enabled) || !self.enabled || has(self.prometheusUrl)",
            "prometheusUrl is required when autoscaling is enabled",
            s => !s.Enabled || s.PrometheusUrl is not null,
            ".prometheusUrl"),
    ];
}

/// <summary>The replica bounds and target metric of one component.</summary>
/// <typeparam name="TMetric">The metrics this component can be scaled on.</typeparam>
public sealed record ComponentAutoscaling<TMetric> : IHasCelRules
    where TMetric : struct, Enum
{
    /// <summary>The fewest replicas; the autoscaler never goes below, even without metrics.</summary>
    [JsonPropertyName("minReplicas")]
    [Minimum(1), Maximum(1024)]
    public int MinReplicas { get; init; } = 1;

    /// <summary>The most replicas.</summary>
    [JsonPropertyName("maxReplicas")]
    [Minimum(1), Maximum(1024)]
    public int MaxReplicas { get; init; } = 1;

    /// <summary>The per-replica value of a metric the autoscaler steers towards.</summary>
    [JsonPropertyName("target")]
    public ScalingTarget<TMetric> Target { get; init; } = new();

    /// <inheritdoc />
    [SuppressMessage("Design", "CA1000", Justification = "Implements the static abstract IHasCelRules.CelRules.")]
    public static IReadOnlyList<CelRule> CelRules { get; } =
    [
        CelRule.For<ComponentAutoscaling<TMetric>>(
            "!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",
            "minReplicas must not be greater than maxReplicas",
            s => s.MinReplicas <= s.MaxReplicas,
            ".minReplicas"),
    ];
}

/// <summary>A metric and the average value per replica to keep it at.</summary>
/// <typeparam name="TMetric">The metrics this component can be scaled on.</typeparam>
public sealed record ScalingTarget<TMetric>
    where TMetric : struct, Enum
{
    /// <summary>The built-in metric; ignored when <c>query</c> is set.</summary>
    [JsonPropertyName("metric")]
    public TMetric Metric { get; init; }

    /// <summary>
    /// A PromQL expression giving the component's total load (a one-sample vector or a scalar), used instead of
    /// <c>metric</c>. <c>$namespace</c>, <c>$model</c>, <c>$pods</c> (a regex of the component's pod names) and
    /// <c>$shard</c> (the shard's index; empty for routers) are replaced before it is sent.
    /// </summary>
    [JsonPropertyName("query")]
    [Length(Min = 1, Max = 4096)]
    public string? Query { get; init; }

    /// <summary>The value per replica; more load than this adds replicas, less removes them.</summary>
    [JsonPropertyName("averageValue")]
    [Minimum(0, Exclusive = true)]
    public double AverageValue { get; init; } = 1;
}

/// <summary>Limits on how fast replicas change, as a HorizontalPodAutoscaler's behavior.</summary>
public sealed record ScalingBehavior
{
    /// <summary>Scaling up: by default at once, at most doubling per step.</summary>
    [JsonPropertyName("scaleUp")]
    public ScalingRules ScaleUp { get; init; } = new() { StabilizationWindowSeconds = 0, MaxChangePercent = 100 };

    /// <summary>Scaling down: by default after five minutes of lower load, at most halving per step.</summary>
    [JsonPropertyName("scaleDown")]
    public ScalingRules ScaleDown { get; init; } = new() { StabilizationWindowSeconds = 300, MaxChangePercent = 50 };
}

/// <summary>Limits on one direction of scaling.</summary>
public sealed record ScalingRules
{
    /// <summary>Seconds of recommendations considered: scale down to the highest of the window, scale up to the lowest.</summary>
    [JsonPropertyName("stabilizationWindowSeconds")]
    [Minimum(0), Maximum(3600)]
    public int StabilizationWindowSeconds { get; init; }

    /// <summary>The most replicas may change in one step, as a percentage of the current count (at least one replica).</summary>
    [JsonPropertyName("maxChangePercent")]
    [Minimum(1), Maximum(1000)]
    public int MaxChangePercent { get; init; } = 100;
}

/// <summary>Placement of routed experts on shards.</summary>
public sealed record PlacementSpec
{
    /// <summary>Contiguous ranges, or balanced from observed load with copies of hot experts.</summary>
    [JsonPropertyName("strategy")]
    public PlacementStrategy Strategy { get; init; } = PlacementStrategy.Balanced;

    /// <summary>How often a balanced placement is recomputed from the observed load, as a duration such as <c>10m</c>.</summary>
    [JsonPropertyName("rebalanceInterval")]
    [Duration("1m")]
    public string RebalanceInterval { get; init; } = "10m";

    /// <summary>A new placement is rolled out only when it lowers the max/mean shard load ratio by more than this factor.</summary>
    [JsonPropertyName("minImbalance")]
    [Minimum(1), Maximum(100)]
    public double MinImbalance { get; init; } = 1.15;

    /// <summary>
    /// Shards per node when the shards are spread over nodes, consecutive shards sharing one (shards 0 to n−1 on the
    /// first node, and so on); must divide <c>experts.shards</c>. When the node count divides the model's expert
    /// groups (<c>n_group</c>), a balanced placement follows DeepSeek EPLB's hierarchical policy: whole expert groups
    /// are packed onto nodes first, then the hot experts of each node are copied within the node and the copies
    /// packed onto its shards, so that every copy of an expert stays on the node of its group. Unset: the flat policy.
    /// </summary>
    [JsonPropertyName("shardsPerNode")]
    [Minimum(1), Maximum(1024)]
    public int? ShardsPerNode { get; init; }
}

/// <summary>The HTTP API of the routers.</summary>
public sealed record ServingSpec
{
    /// <summary>The port of the OpenAI-compatible API and of /metrics on router pods and the gateway Service.</summary>
    [JsonPropertyName("port")]
    [Minimum(1), Maximum(65535)]
    public int Port { get; init; } = 8000;

    /// <summary>The most tokens (prompt and generated) in one batched forward step of a router.</summary>
    [JsonPropertyName("maxBatchTokens")]
    [Minimum(16), Maximum(1048576)]
    public int MaxBatchTokens { get; init; } = 8192;

    /// <summary>The most requests a router serves at once; more wait in its queue.</summary>
    [JsonPropertyName("maxConcurrentRequests")]
    [Minimum(1), Maximum(65536)]
    public int MaxConcurrentRequests { get; init; } = 256;

    /// <summary>A Secret key holding the API key clients must send as a bearer token; when unset, the API is open.</summary>
    [JsonPropertyName("apiKeySecret")]
    public SecretKeyReference? ApiKeySecret { get; init; }
}

/// <summary>A key of a Secret in the model's namespace.</summary>
public sealed record SecretKeyReference
{
    /// <summary>The Secret's name.</summary>
    [JsonPropertyName("name")]
    [Pattern(Patterns.DnsSubdomain), Length(Max = 253)]
    public required string Name { get; init; }

    /// <summary>The key within the Secret.</summary>
    [JsonPropertyName("key")]
    [Pattern(Patterns.SecretKey), Length(Max = 253)]
    public required string Key { get; init; }
}
