using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children.Internal;
using DeepSeekOperator.Moe;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Children;

/// <summary>
/// The short-lived pod through which the operator learns a checkpoint's architecture: it mounts the model's source as
/// the shards do, runs <c>dsop model config</c> in the runtime image, and leaves the config.json it read (as one line of
/// JSON), or the error naming the file and key, in its termination message, which the kubelet copies into the pod's
/// status. Its name carries a hash of the source and the image, so a change to either gets a new pod.
/// </summary>
public static class ModelConfigReader
{
    /// <summary>Where the container writes its result, the Kubernetes default <c>terminationMessagePath</c>.</summary>
    public const string TerminationMessagePath = "/dev/termination-log";

    private const string ContainerName = "dsop";
    private const string TmpVolume = "tmp";

    /// <summary>
    /// The reader pod of <paramref name="model"/>'s checkpoint: <c>&lt;model&gt;-config-&lt;hash&gt;</c>, controlled by the
    /// model, never restarted, and stopped after the settings' model load timeout.
    /// </summary>
    /// <param name="model">A DeepSeekModel read from the API server (with namespace and uid) whose source is a checkpoint, not synthetic.</param>
    /// <param name="settings">The operator's settings: the default runtime image and the model load timeout.</param>
    /// <exception cref="InvalidModelSpecException">metadata.name cannot name the model's children.</exception>
    /// <exception cref="ArgumentException">The source is synthetic: there is no checkpoint to read.</exception>
    public static V1Pod Pod(DeepSeekModel model, OperatorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrEmpty(model.Metadata?.Name, "model.Metadata.Name");
        ArgumentException.ThrowIfNullOrEmpty(model.Metadata.Uid, "model.Metadata.Uid");
        ChildContext.CheckName(model);
        var source = model.Spec.Model.Source;
        var checkpoint = PodTemplates.Model(source) ?? throw new ArgumentException("a synthetic source has no config.json to read", nameof(model));
        var runtime = model.Spec.Runtime;
        var image = runtime.Image ?? settings.RuntimeImage;
        return new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = PodName(model, settings),
                NamespaceProperty = model.Metadata.NamespaceProperty,
                Labels = ChildContext.LabelsOf(model.Metadata.Name, ChildLabels.ConfigReader),
                OwnerReferences = [ChildContext.Owner(model)],
            },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Never",
                ActiveDeadlineSeconds = (long)Math.Ceiling(settings.ModelLoadTimeout.TotalSeconds),
                AutomountServiceAccountToken = false,
                ImagePullSecrets = PodTemplates.ImagePullSecrets(runtime),
                SecurityContext = PodTemplates.PodSecurity(),
                NodeSelector = PodTemplates.NodeSelector(model.Spec.Experts),
                Tolerations = PodTemplates.Tolerations(model.Spec.Experts),
                Containers =
                [
                    new V1Container
                    {
                        Name = ContainerName,
                        Image = image,
                        ImagePullPolicy = PodTemplates.PullPolicyName(runtime.ImagePullPolicy),
                        Args = ["model", "config", "--model", ServingArgs.ModelDirectory, "--output", TerminationMessagePath],
                        TerminationMessagePath = TerminationMessagePath,
                        TerminationMessagePolicy = "FallbackToLogsOnError",
                        Resources = new V1ResourceRequirements
                        {
                            Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("128Mi") },
                            Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("512Mi") },
                        },
                        VolumeMounts = [checkpoint.Mount, new V1VolumeMount { Name = TmpVolume, MountPath = "/tmp" }],
                        SecurityContext = PodTemplates.ContainerSecurity(),
                    },
                ],
                Volumes = [checkpoint.Volume, new V1Volume { Name = TmpVolume, EmptyDir = new V1EmptyDirVolumeSource() }],
            },
        };
    }

    /// <summary><c>&lt;model&gt;-config-&lt;8 hex&gt;</c>, the hash of the source and the runtime image the pod reads it with.</summary>
    public static string PodName(DeepSeekModel model, OperatorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        var identity = KubernetesJson.Serialize(model.Spec.Model.Source) + "\n" + (model.Spec.Runtime.Image ?? settings.RuntimeImage);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..8];
        return string.Create(CultureInfo.InvariantCulture, $"{model.Metadata.Name}-config-{hash}");
    }

    /// <summary>The architecture a succeeded reader pod left in its termination message.</summary>
    /// <exception cref="ModelConfigException">The pod has no message, or it is not a valid config.json; the message names the pod and the key.</exception>
    public static ModelConfig Read(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var source = $"the termination message of pod {pod.Metadata.Name}";
        var message = Message(pod) ?? throw new ModelConfigException(source, null, "is empty");
        return ModelConfig.Parse(message, source);
    }

    /// <summary>The termination message of the pod's container, or null when it left none.</summary>
    public static string? Message(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var status = pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == ContainerName);
        return status?.State?.Terminated?.Message is { Length: > 0 } message ? message : null;
    }
}
