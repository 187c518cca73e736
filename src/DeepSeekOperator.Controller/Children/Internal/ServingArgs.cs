using System.Globalization;
using DeepSeekOperator.Api.V1Alpha1;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The command lines of <c>dsop router</c> and <c>dsop shard</c> in a model's pods, and the paths and ports they
/// name: the one place the operator's side of those flags is written (the Cli project's RouterCommand, ShardCommand
/// and ServingOptions declare them).
/// </summary>
internal static class ServingArgs
{
    /// <summary>Where a checkpoint volume is mounted.</summary>
    public const string ModelDirectory = "/model";

    /// <summary>Where the placement ConfigMap is mounted.</summary>
    public const string PlacementDirectory = "/etc/dsop/placement";

    /// <summary>The file name of a pod's placement under <see cref="PlacementDirectory"/> (routers: the ConfigMap's key of the same name; shards: their own key).</summary>
    public const string PlacementKey = "placement.json";

    /// <summary>Where the API key Secret's key is mounted.</summary>
    public const string ApiKeyDirectory = "/etc/dsop/api-key";

    /// <summary>The file name of the API key under <see cref="ApiKeyDirectory"/>.</summary>
    public const string ApiKeyFile = "api-key";

    /// <summary>The shards' gRPC port.</summary>
    public const int GrpcPort = 9000;

    /// <summary>The shards' port of <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>.</summary>
    public const int MetricsPort = 9100;

    /// <summary>The name of the shards' gRPC port on their pods and Services.</summary>
    public const string GrpcPortName = "grpc";

    /// <summary>The name of the shards' metrics port on their pods and Services.</summary>
    public const string MetricsPortName = "metrics";

    /// <summary>The name of the routers' HTTP port on their pods and the gateway Service.</summary>
    public const string HttpPortName = "http";

    /// <summary>
    /// The variable holding the pod's IP (a downward-API <c>fieldRef</c> to <c>status.podIP</c>): routers and shards
    /// listen on it rather than on every address, which also lets pods share a network namespace in the dev cluster.
    /// </summary>
    public const string PodIpVariable = "POD_IP";

    /// <summary><c>router …</c>: the OpenAI API on <c>spec.serving.port</c>, shards found through their EndpointSlices.</summary>
    public static IReadOnlyList<string> Router(ChildContext context)
    {
        var serving = context.Spec.Serving;
        List<string> args =
        [
            "router",
            .. Model(context),
            "--discovery", "endpointslices",
            "--service-prefix", context.Name,
            "--namespace", context.Namespace,
            "--shard-port-name", GrpcPortName,
            "--port", Number(serving.Port),
            "--bind", $"$({PodIpVariable})",
            "--max-batch-tokens", Number(serving.MaxBatchTokens),
            "--max-concurrent-requests", Number(serving.MaxConcurrentRequests),
        ];
        if (serving.ApiKeySecret is not null)
        {
            args.AddRange(["--api-key-file", $"{ApiKeyDirectory}/{ApiKeyFile}"]);
        }

        return args;
    }

    /// <summary><c>shard …</c>: shard <paramref name="shard"/> of the placement, gRPC and metrics on the fixed ports.</summary>
    public static IReadOnlyList<string> Shard(ChildContext context, int shard) =>
    [
        "shard",
        .. Model(context),
        "--shard-index", Number(shard),
        "--port", Number(GrpcPort),
        "--metrics-port", Number(MetricsPort),
        "--bind", $"$({PodIpVariable})",
    ];

    private static IEnumerable<string> Model(ChildContext context)
    {
        var model = context.Spec.Model;
        if (model.Source.Synthetic is { } synthetic)
        {
            yield return "--synthetic";
            yield return synthetic.Preset switch
            {
                SyntheticPreset.Tiny => "tiny",
                SyntheticPreset.Small => "small",
                _ => throw new ArgumentOutOfRangeException(nameof(context), synthetic.Preset, "not a synthetic preset"),
            };
            yield return "--seed";
            yield return Number(synthetic.Seed);
            if (synthetic.Skew > 0)
            {
                yield return "--skew";
                yield return synthetic.Skew.ToString(CultureInfo.InvariantCulture);
            }
        }
        else
        {
            yield return "--model";
            yield return ModelDirectory;
        }

        yield return "--model-id";
        yield return context.Name;
        yield return "--placement";
        yield return $"{PlacementDirectory}/{PlacementKey}";
        yield return "--dtype";
        yield return model.Dtype == ModelDtype.BFloat16 ? "bf16" : "f32";
        yield return "--device";
        yield return context.Spec.Runtime.Device == ComputeDevice.Cuda ? "cuda" : "cpu";
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
