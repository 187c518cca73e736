using System.Globalization;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Placement;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The pod template routers and shards share: the runtime image running <c>dsop</c>, the model source volume, the
/// placement ConfigMap, resources (with a GPU on <c>cuda</c>), probes, a non-root read-only container, Prometheus
/// scrape annotations and the workload's scheduling constraints.
/// </summary>
internal static class PodTemplates
{
    /// <summary>The uid and gid of the distroless <c>nonroot</c> user the pods run as.</summary>
    public const long NonRootUser = 65532;

    /// <summary>The extended resource a <c>cuda</c> pod asks one of.</summary>
    public const string GpuResource = "nvidia.com/gpu";

    private const string ContainerName = "dsop";
    private const string ModelVolume = "model";
    private const string PlacementVolume = "placement";
    private const string TmpVolume = "tmp";
    private const string ApiKeyVolume = "api-key";
    // The startup probe runs often so that a pod is Ready soon after its model loads; readiness follows load-balancing
    // changes within seconds; liveness is the slowest, as restarting a model is expensive.
    private const int StartupPeriodSeconds = 2;
    private const int ReadinessPeriodSeconds = 5;
    private const int LivenessPeriodSeconds = 10;

    /// <summary>A template of pods labelled as <paramref name="component"/> (and <paramref name="shard"/>).</summary>
    /// <param name="context">The model.</param>
    /// <param name="component">The pods' component label.</param>
    /// <param name="shard">The shard index of shard pods.</param>
    /// <param name="workload">Resources and scheduling from the spec.</param>
    /// <param name="args">The <c>dsop</c> command line.</param>
    /// <param name="ports">The container's ports; the one named by <paramref name="probePort"/> answers the probes and /metrics.</param>
    /// <param name="probePort">The port of <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.</param>
    /// <param name="readsApi">Whether the pod watches the Kubernetes API (routers: EndpointSlices), and so mounts a token.</param>
    public static V1PodTemplateSpec Build(
        ChildContext context, string component, int? shard, WorkloadSpec workload, IReadOnlyList<string> args, IList<V1ContainerPort> ports, V1ContainerPort probePort, bool readsApi)
    {
        var runtime = context.Spec.Runtime;
        var (volumes, mounts) = Volumes(context, component == ChildLabels.Router, shard);
        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta
            {
                Labels = context.Labels(component, shard),
                Annotations = new Dictionary<string, string>
                {
                    ["prometheus.io/scrape"] = "true",
                    ["prometheus.io/port"] = probePort.ContainerPort.ToString(CultureInfo.InvariantCulture),
                    ["prometheus.io/path"] = "/metrics",
                },
            },
            Spec = new V1PodSpec
            {
                ServiceAccountName = context.ServiceAccountName,
                AutomountServiceAccountToken = readsApi,
                ImagePullSecrets = ImagePullSecrets(runtime),
                SecurityContext = PodSecurity(),
                NodeSelector = NodeSelector(workload),
                Tolerations = Tolerations(workload),
                Affinity = workload.Affinity,
                Containers =
                [
                    new V1Container
                    {
                        Name = ContainerName,
                        Image = context.Image,
                        ImagePullPolicy = PullPolicyName(runtime.ImagePullPolicy),
                        Args = [.. args],
                        Ports = ports,
                        Env =
                        [
                            new V1EnvVar
                            {
                                Name = "POD_NAMESPACE",
                                ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } },
                            },
                            new V1EnvVar
                            {
                                Name = ServingArgs.PodIpVariable,
                                ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } },
                            },
                        ],
                        Resources = Resources(workload.Resources, runtime.Device),
                        VolumeMounts = mounts,
                        StartupProbe = Probe("/healthz", probePort.Name, StartupPeriodSeconds, (int)Math.Ceiling(context.Settings.ModelLoadTimeout.TotalSeconds / StartupPeriodSeconds)),
                        LivenessProbe = Probe("/healthz", probePort.Name, LivenessPeriodSeconds, failureThreshold: 3),
                        ReadinessProbe = Probe("/readyz", probePort.Name, ReadinessPeriodSeconds, failureThreshold: 3),
                        SecurityContext = ContainerSecurity(),
                    },
                ],
                Volumes = volumes,
            },
        };
    }

    /// <summary>The pod's security context: the non-root user and group, and the runtime's default seccomp profile.</summary>
    public static V1PodSecurityContext PodSecurity() => new()
    {
        RunAsNonRoot = true,
        RunAsUser = NonRootUser,
        RunAsGroup = NonRootUser,
        FsGroup = NonRootUser,
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    /// <summary>The container's security context: no privilege escalation, a read-only root and no capabilities.</summary>
    public static V1SecurityContext ContainerSecurity() => new()
    {
        RunAsNonRoot = true,
        AllowPrivilegeEscalation = false,
        ReadOnlyRootFilesystem = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
    };

    /// <summary>The runtime's pull secrets, or null for none.</summary>
    public static List<V1LocalObjectReference>? ImagePullSecrets(RuntimeSpec runtime) =>
        runtime.ImagePullSecrets is { Count: > 0 } secrets ? [.. secrets] : null;

    /// <summary>The workload's node selector, or null for none.</summary>
    public static Dictionary<string, string>? NodeSelector(WorkloadSpec workload) =>
        workload.NodeSelector is { Count: > 0 } nodeSelector ? new Dictionary<string, string>(nodeSelector) : null;

    /// <summary>The workload's tolerations, or null for none.</summary>
    public static List<V1Toleration>? Tolerations(WorkloadSpec workload) =>
        workload.Tolerations is { Count: > 0 } tolerations ? [.. tolerations] : null;

    /// <summary>The checkpoint's volume and its read-only mount at <see cref="ServingArgs.ModelDirectory"/>; null for a synthetic model.</summary>
    public static (V1Volume Volume, V1VolumeMount Mount)? Model(ModelSource source) => ModelVolumeSource(source) is { } volume
        ? (volume, new V1VolumeMount { Name = ModelVolume, MountPath = ServingArgs.ModelDirectory, SubPath = source.Pvc?.SubPath, ReadOnlyProperty = true })
        : null;

    /// <summary>The Kubernetes name of a pull policy.</summary>
    public static string PullPolicyName(PullPolicy policy) => policy switch
    {
        PullPolicy.Always => "Always",
        PullPolicy.Never => "Never",
        _ => "IfNotPresent",
    };

    /// <summary>The spec's resources, plus one <c>nvidia.com/gpu</c> limit on <c>cuda</c> when the spec names none.</summary>
    private static V1ResourceRequirements? Resources(V1ResourceRequirements? fromSpec, ComputeDevice device)
    {
        if (device != ComputeDevice.Cuda)
        {
            return fromSpec;
        }

        var limits = new Dictionary<string, ResourceQuantity>(fromSpec?.Limits ?? new Dictionary<string, ResourceQuantity>());
        limits.TryAdd(GpuResource, new ResourceQuantity("1"));
        return new V1ResourceRequirements
        {
            Requests = fromSpec?.Requests is { } requests ? new Dictionary<string, ResourceQuantity>(requests) : null,
            Limits = limits,
            Claims = fromSpec?.Claims,
        };
    }

    // A shard's pods read their own placement ConfigMap, routers the routers' one.
    private static (List<V1Volume> Volumes, List<V1VolumeMount> Mounts) Volumes(ChildContext context, bool router, int? shard)
    {
        var placement = shard is { } k ? PublishedPlacement.ShardConfigMap(context.Name, k) : context.PlacementName;
        List<V1Volume> volumes =
        [
            new V1Volume
            {
                Name = PlacementVolume,
                ConfigMap = new V1ConfigMapVolumeSource { Name = placement, Items = [new V1KeyToPath { Key = PublishedPlacement.Key, Path = ServingArgs.PlacementKey }] },
            },
            new V1Volume { Name = TmpVolume, EmptyDir = new V1EmptyDirVolumeSource() },
        ];
        List<V1VolumeMount> mounts =
        [
            new V1VolumeMount { Name = PlacementVolume, MountPath = ServingArgs.PlacementDirectory, ReadOnlyProperty = true },
            new V1VolumeMount { Name = TmpVolume, MountPath = "/tmp" },
        ];

        if (Model(context.Spec.Model.Source) is { } model)
        {
            volumes.Add(model.Volume);
            mounts.Add(model.Mount);
        }

        if (router && context.Spec.Serving.ApiKeySecret is { } apiKey)
        {
            volumes.Add(new V1Volume
            {
                Name = ApiKeyVolume,
                Secret = new V1SecretVolumeSource { SecretName = apiKey.Name, Items = [new V1KeyToPath { Key = apiKey.Key, Path = ServingArgs.ApiKeyFile }] },
            });
            mounts.Add(new V1VolumeMount { Name = ApiKeyVolume, MountPath = ServingArgs.ApiKeyDirectory, ReadOnlyProperty = true });
        }

        return (volumes, mounts);
    }

    /// <summary>The checkpoint's volume; none for a synthetic model, whose weights the flags generate.</summary>
    private static V1Volume? ModelVolumeSource(ModelSource source) => source switch
    {
        { Pvc: { } pvc } => new V1Volume
        {
            Name = ModelVolume,
            PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = pvc.ClaimName, ReadOnlyProperty = true },
        },
        { HostPath: { } hostPath } => new V1Volume
        {
            Name = ModelVolume,
            HostPath = new V1HostPathVolumeSource { Path = hostPath.Path, Type = "Directory" },
        },
        { Image: { } image } => new V1Volume
        {
            Name = ModelVolume,
            Image = new V1ImageVolumeSource { Reference = image.Reference, PullPolicy = PullPolicyName(image.PullPolicy) },
        },
        _ => null,
    };

    private static V1Probe Probe(string path, string port, int periodSeconds, int failureThreshold) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = port },
        PeriodSeconds = periodSeconds,
        TimeoutSeconds = 5,
        FailureThreshold = failureThreshold,
    };
}
