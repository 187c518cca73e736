using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The config ConfigMap <c>&lt;model&gt;-config</c>: the serving settings the operator derived from the spec, as one
/// JSON document (<c>serving.json</c>), for people debugging a model and for tools in its pods.
/// </summary>
internal static class ServingConfigMap
{
    /// <summary>The key of the JSON document.</summary>
    public const string Key = "serving.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static V1ConfigMap Build(ChildContext context, string endpoint)
    {
        var spec = context.Spec;
        var document = new JsonObject
        {
            ["model"] = context.Name,
            ["namespace"] = context.Namespace,
            ["endpoint"] = endpoint,
            ["source"] = spec.Model.Source.SetFields.Single(),
            ["dtype"] = JsonSerializer.SerializeToNode(spec.Model.Dtype),
            ["device"] = JsonSerializer.SerializeToNode(spec.Runtime.Device),
            ["image"] = context.Image,
            ["routedExperts"] = context.Config.NRoutedExperts,
            ["moeLayers"] = context.Config.MoeLayers.Count,
            ["router"] = new JsonObject
            {
                ["deployment"] = context.RouterName,
                ["replicas"] = spec.Router.Replicas,
                ["port"] = spec.Serving.Port,
                ["maxBatchTokens"] = spec.Serving.MaxBatchTokens,
                ["maxConcurrentRequests"] = spec.Serving.MaxConcurrentRequests,
                ["apiKeyRequired"] = spec.Serving.ApiKeySecret is not null,
                ["args"] = new JsonArray([.. ServingArgs.Router(context).Select(a => JsonValue.Create(a))]),
            },
            ["shards"] = new JsonObject
            {
                ["count"] = spec.Experts.Shards,
                ["replicasPerShard"] = spec.Experts.ReplicasPerShard,
                ["slotsPerShard"] = context.SlotsPerShard,
                ["redundantSlots"] = spec.Experts.RedundantSlots,
                ["grpcPort"] = ServingArgs.GrpcPort,
                ["metricsPort"] = ServingArgs.MetricsPort,
            },
            ["placement"] = new JsonObject
            {
                ["configMap"] = context.PlacementName,
                ["key"] = ServingArgs.PlacementKey,
                ["strategy"] = JsonSerializer.SerializeToNode(spec.Placement.Strategy),
            },
        };
        return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = context.Meta(context.ConfigName, ChildLabels.Config),
            Data = new Dictionary<string, string> { [Key] = document.ToJsonString(Indented) },
        };
    }
}
