using System.Globalization;
using System.Text.RegularExpressions;
using DeepSeekOperator.Api.Schema;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// What every child builder needs, checked once: the model's name, namespace and spec, its architecture, the
/// operator's settings, the child names, labels and the controller owner reference.
/// </summary>
internal sealed partial record ChildContext
{
    /// <summary>The longest name of a Service, and the longest label value.</summary>
    public const int MaxLabelLength = 63;

    private ChildContext(DeepSeekModel model, ModelConfig config, OperatorSettings settings)
    {
        Model = model;
        Name = model.Metadata.Name!;
        Namespace = model.Metadata.NamespaceProperty!;
        Config = config;
        Settings = settings;
    }

    public DeepSeekModel Model { get; }

    public string Name { get; }

    public string Namespace { get; }

    public DeepSeekModelSpec Spec => Model.Spec;

    public ModelConfig Config { get; }

    public OperatorSettings Settings { get; }

    /// <summary>The Deployments HorizontalPodAutoscalers scale, by name, with the autoscaler's name.</summary>
    public IReadOnlyDictionary<string, string> HorizontalPodAutoscalers { get; init; } = new Dictionary<string, string>();

    /// <summary>Experts each shard holds per MoE layer: every expert once, spread evenly, plus the redundant slots.</summary>
    public int SlotsPerShard => PlacementGenerator.MinimumSlotsPerShard(Config.NRoutedExperts, Spec.Experts.Shards) + Spec.Experts.RedundantSlots;

    /// <summary>The image of routers and shards.</summary>
    public string Image => Spec.Runtime.Image ?? Settings.RuntimeImage;

    public string RouterName => $"{Name}-router";

    public string PlacementName => ModelChildren.PlacementConfigMapName(Model);

    public string ConfigName => $"{Name}-config";

    public string ServiceAccountName => $"{Name}-serving";

    public string ShardName(int shard) => string.Create(CultureInfo.InvariantCulture, $"{Name}-shard-{shard}");

    /// <summary>Checks what the schema cannot: child names within Kubernetes' limits and the model against its architecture.</summary>
    /// <exception cref="InvalidModelSpecException">The field that makes a child impossible.</exception>
    public static ChildContext Create(DeepSeekModel model, ModelConfig config, OperatorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrEmpty(model.Metadata?.Name, "model.Metadata.Name");
        ArgumentException.ThrowIfNullOrEmpty(model.Metadata.NamespaceProperty, "model.Metadata.NamespaceProperty");
        ArgumentException.ThrowIfNullOrEmpty(model.Metadata.Uid, "model.Metadata.Uid");
        ArgumentException.ThrowIfNullOrEmpty(settings.RuntimeImage, nameof(settings.RuntimeImage));

        var context = new ChildContext(model, config, settings);
        CheckName(model);
        if (model.Spec.Model.Dtype is not (ModelDtype.Float32 or ModelDtype.BFloat16))
        {
            throw Invalid("spec.model.dtype", FieldErrorType.NotSupported, model.Spec.Model.Dtype.ToString(), "the runtime computes in \"float32\" or \"bfloat16\"");
        }

        var experts = config.NRoutedExperts;
        if (model.Spec.Experts.Shards > experts)
        {
            throw Invalid("spec.experts.shards", FieldErrorType.Invalid, model.Spec.Experts.Shards.ToString(CultureInfo.InvariantCulture),
                $"must not exceed the model's {experts} routed experts (n_routed_experts), or a shard would hold none");
        }

        if (context.SlotsPerShard > experts)
        {
            throw Invalid("spec.experts.redundantSlots", FieldErrorType.Invalid, model.Spec.Experts.RedundantSlots.ToString(CultureInfo.InvariantCulture),
                $"{context.SlotsPerShard} slots per shard would exceed the model's {experts} routed experts, and a shard holds an expert at most once");
        }

        CheckShardsPerNode(context);
        return context;
    }

    /// <summary>Checks that the model's name can name its children, which needs no architecture.</summary>
    /// <exception cref="InvalidModelSpecException">metadata.name is too long or not a DNS-1035 label.</exception>
    public static void CheckName(DeepSeekModel model)
    {
        var name = model.Metadata.Name!;

        // The longest name of a Service (a DNS-1035 label); every other child name is shorter or not limited to 63.
        var lastShard = string.Create(CultureInfo.InvariantCulture, $"{name}-shard-{model.Spec.Experts.Shards - 1}");
        if (lastShard.Length > MaxLabelLength)
        {
            throw Invalid("metadata.name", FieldErrorType.TooLong, name,
                $"the child name \"{lastShard}\" would be {lastShard.Length} characters, more than the {MaxLabelLength} of a Service name; shorten metadata.name to at most {name.Length - (lastShard.Length - MaxLabelLength)} characters");
        }

        if (!Dns1035Label().IsMatch(name))
        {
            throw Invalid("metadata.name", FieldErrorType.Invalid, name,
                "must start with a lower-case letter to name the model's Services (a DNS-1035 label: lower-case letters, digits and '-')");
        }
    }

    // placement.shardsPerNode: it divides the shards (the CRD's rule, checked again for objects that did not pass an
    // API server), and, where the planner takes the hierarchical policy, a node holds at least slotsPerShard experts.
    private static void CheckShardsPerNode(ChildContext context)
    {
        if (context.Spec.Placement.ShardsPerNode is not { } perNode)
        {
            return;
        }

        var shards = context.Spec.Experts.Shards;
        var value = perNode.ToString(CultureInfo.InvariantCulture);
        if (perNode < 1 || shards % perNode != 0)
        {
            throw Invalid("spec.placement.shardsPerNode", FieldErrorType.Invalid, value, $"must be at least 1 and divide experts.shards ({shards})");
        }

        var nodes = shards / perNode;
        var perNodeExperts = context.Config.NRoutedExperts / nodes;
        if (context.Config.NGroup % nodes == 0 && context.SlotsPerShard > perNodeExperts)
        {
            throw Invalid("spec.placement.shardsPerNode", FieldErrorType.Invalid, value,
                $"{nodes} nodes would hold {perNodeExperts} of the model's experts each, fewer than the {context.SlotsPerShard} slots per shard, and a shard holds an expert at most once");
        }
    }

    /// <summary>The standard labels of a child of the model <paramref name="name"/>; shard children also carry their shard index.</summary>
    public static Dictionary<string, string> LabelsOf(string name, string component, int? shard = null)
    {
        var labels = new Dictionary<string, string>
        {
            [ChildLabels.NameKey] = ChildLabels.AppName,
            [ChildLabels.InstanceKey] = name,
            [ChildLabels.ComponentKey] = component,
            [ChildLabels.ManagedByKey] = ChildLabels.ManagedBy,
            [ChildLabels.PartOfKey] = name,
        };
        if (shard is { } k)
        {
            labels[ChildLabels.Shard] = k.ToString(CultureInfo.InvariantCulture);
        }

        return labels;
    }

    /// <summary>The standard labels of a child; shard children also carry their shard index.</summary>
    public Dictionary<string, string> Labels(string component, int? shard = null) => LabelsOf(Name, component, shard);

    /// <summary>The labels selectors match on: a subset of <see cref="Labels"/> that never changes for a child.</summary>
    public Dictionary<string, string> Selector(string component, int? shard = null)
    {
        var selector = new Dictionary<string, string>
        {
            [ChildLabels.NameKey] = ChildLabels.AppName,
            [ChildLabels.InstanceKey] = Name,
            [ChildLabels.ComponentKey] = component,
        };
        if (shard is { } k)
        {
            selector[ChildLabels.Shard] = k.ToString(CultureInfo.InvariantCulture);
        }

        return selector;
    }

    /// <summary>The metadata of a child: its name, the model's namespace, labels and the controller owner reference.</summary>
    public V1ObjectMeta Meta(string name, string component, int? shard = null) => new()
    {
        Name = name,
        NamespaceProperty = Namespace,
        Labels = Labels(component, shard),
        OwnerReferences = [Owner(Model)],
    };

    /// <summary>The reference making <paramref name="model"/> a child's controller, deleting the child with it.</summary>
    public static V1OwnerReference Owner(DeepSeekModel model) => new()
    {
        ApiVersion = DeepSeekModel.GroupVersion,
        Kind = DeepSeekModel.KindName,
        Name = model.Metadata.Name,
        Uid = model.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    private static InvalidModelSpecException Invalid(string field, FieldErrorType type, string value, string detail) =>
        new(new FieldError(field, type, $"\"{value}\"", detail));

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();
}
