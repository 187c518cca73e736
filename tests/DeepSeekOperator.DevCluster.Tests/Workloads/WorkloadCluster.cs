using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Workloads;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.DevCluster.Tests.Workloads;

/// <summary>An API server running the workload controllers and a <see cref="TestKubelet"/>, with a client to drive them.</summary>
internal sealed class WorkloadCluster : IAsyncDisposable
{
    private readonly RunningApiServer running;

    private WorkloadCluster(RunningApiServer running)
    {
        this.running = running;
        Kubelet = new TestKubelet(running.Server.Objects);
        running.Server.RunBeside(Kubelet.RunAsync);
        running.Server.RunBeside(new WorkloadControllers(running.Server.Objects, NullLoggerFactory.Instance).RunAsync);
    }

    public ApiServer Server => running.Server;

    public Kubernetes Client => running.Client;

    public TestKubelet Kubelet { get; }

    public static async Task<WorkloadCluster> StartAsync() => new(await RunningApiServer.StartAsync());

    /// <summary>A Deployment of <paramref name="replicas"/> pods labelled <c>app: &lt;name&gt;</c>, running <paramref name="image"/>.</summary>
    public static V1Deployment Deployment(string name, int replicas, string image = "registry.local/web:1") => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = image }] },
            },
        },
    };

    /// <summary>Changes the deployment's image, which makes a new pod template.</summary>
    public Task<V1Deployment> SetImageAsync(string name, string image) =>
        Client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"main","image":""" + $"\"{image}\"" + "}]}}}}", V1Patch.PatchType.StrategicMergePatch),
            name,
            "default");

    public Task<V1Deployment> ScaleAsync(string name, int replicas) =>
        Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch($$$"""{"spec":{"replicas":{{{replicas}}}}}""", V1Patch.PatchType.MergePatch), name, "default");

    /// <summary>Reads the deployment until its status satisfies <paramref name="done"/>.</summary>
    public Task<V1Deployment> WaitForDeploymentAsync(string name, Func<V1Deployment, bool> done, string what) =>
        Conformance.Eventually.ReadAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync(name, "default"), done, what);

    /// <summary>Reads the deployment until the controller reports its rollout complete, as <c>kubectl rollout status</c> judges it.</summary>
    public Task<V1Deployment> WaitForRolloutAsync(string name) => WaitForDeploymentAsync(name, RolledOut, $"the rollout of {name}");

    public static bool RolledOut(V1Deployment d) =>
        d.Status?.ObservedGeneration >= d.Metadata.Generation
        && d.Status.UpdatedReplicas == d.Spec.Replicas
        && d.Status.Replicas == d.Spec.Replicas
        && d.Status.AvailableReplicas == d.Spec.Replicas
        && d.Status.Conditions?.FirstOrDefault(c => c.Type == "Progressing")?.Reason == "NewReplicaSetAvailable";

    public async Task<IList<V1Pod>> PodsAsync(string selector) =>
        (await Client.CoreV1.ListNamespacedPodAsync("default", labelSelector: selector)).Items;

    /// <summary>The ReplicaSets, oldest revision first.</summary>
    public async Task<IList<V1ReplicaSet>> ReplicaSetsAsync(string selector) =>
        [.. (await Client.AppsV1.ListNamespacedReplicaSetAsync("default", labelSelector: selector)).Items
            .OrderBy(rs => int.Parse(rs.Metadata.Annotations?["deployment.kubernetes.io/revision"] ?? "0", System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>The messages of events with <paramref name="reason"/> about the object named <paramref name="name"/>, oldest first.</summary>
    public async Task<List<string>> EventMessagesAsync(string name, string reason) =>
        [.. (await Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: $"involvedObject.name={name}")).Items
            .Where(e => e.Reason == reason)
            .OrderBy(e => long.Parse(e.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture))
            .Select(e => e.Message)];

    /// <summary>The pod as the test kubelet sees it, for readiness rules.</summary>
    public static string NameOf(JsonObject pod) => pod["metadata"]?["name"]?.ToString() ?? "";

    public async ValueTask DisposeAsync() => await running.DisposeAsync();
}
