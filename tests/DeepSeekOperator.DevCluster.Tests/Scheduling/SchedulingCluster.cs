using DeepSeekOperator.DevCluster.Internal.Scheduling;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.DevCluster.Tests.Scheduling;

/// <summary>An API server with registered virtual nodes and the scheduler running beside it.</summary>
internal sealed class SchedulingCluster : IAsyncDisposable
{
    private readonly RunningApiServer running;

    private SchedulingCluster(RunningApiServer running) => this.running = running;

    public Kubernetes Client => running.Client;

    public static async Task<SchedulingCluster> StartAsync(params NodeSpec[] nodes)
    {
        var running = await RunningApiServer.StartAsync();
        var cluster = new SchedulingCluster(running);
        cluster.Join(nodes);
        await Conformance.Eventually.ReadAsync(
            () => running.Client.CoreV1.ListNodeAsync(),
            list => list.Items.Count == nodes.Length && list.Items.All(n => n.Status?.Allocatable is not null),
            "registration of the nodes");
        running.Server.RunBeside(new Scheduler(running.Server.Objects, NullLoggerFactory.Instance).RunAsync);
        return cluster;
    }

    /// <summary>Starts the kubelets of further nodes, as when machines join the cluster.</summary>
    public void Join(params NodeSpec[] nodes) =>
        running.Server.RunBeside(new VirtualNodes(running.Server.Objects, nodes, NullLoggerFactory.Instance).RunAsync);

    public static NodeSpec Node(string name, string cpu = "4", string memory = "8Gi", int gpus = 0) =>
        new() { Name = name, Cpu = cpu, Memory = memory, Gpus = gpus };

    /// <summary>A pod whose one container requests <paramref name="requests"/> (and limits them when they are extended resources).</summary>
    public static V1Pod Pod(string name, IDictionary<string, string>? requests = null)
    {
        var quantities = requests?.ToDictionary(r => r.Key, r => new ResourceQuantity(r.Value));
        return new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1PodSpec
            {
                Containers =
                [
                    new V1Container
                    {
                        Name = "main",
                        Image = "busybox:1.36",
                        Resources = new V1ResourceRequirements
                        {
                            Requests = quantities,
                            Limits = quantities?.Where(q => q.Key.Contains('/', StringComparison.Ordinal)).ToDictionary(q => q.Key, q => q.Value) is { Count: > 0 } extended ? extended : null,
                        },
                    },
                ],
            },
        };
    }

    public Task<V1Pod> CreateAsync(V1Pod pod, string ns = "default") => Client.CoreV1.CreateNamespacedPodAsync(pod, ns);

    /// <summary>Waits for the pod to be bound and returns it.</summary>
    public Task<V1Pod> BoundAsync(string name, string ns = "default") =>
        Conformance.Eventually.ReadAsync(() => Client.CoreV1.ReadNamespacedPodAsync(name, ns), p => p.Spec.NodeName is not null, $"binding of {name}");

    /// <summary>Waits for the pod's PodScheduled condition to say Unschedulable and returns its message.</summary>
    public async Task<string> UnschedulableAsync(string name, string ns = "default")
    {
        var pod = await Conformance.Eventually.ReadAsync(
            () => Client.CoreV1.ReadNamespacedPodAsync(name, ns),
            p => p.Status.Conditions?.Any(c => c is { Type: "PodScheduled", Status: "False", Reason: "Unschedulable" }) == true,
            $"{name} marked unschedulable");
        Assert.Null(pod.Spec.NodeName);
        Assert.Equal("Pending", pod.Status.Phase);
        return pod.Status.Conditions.Single(c => c.Type == "PodScheduled").Message;
    }

    /// <summary>The events recorded about a pod, oldest first.</summary>
    public async Task<IReadOnlyList<Corev1Event>> EventsAsync(string name, string ns = "default")
    {
        var events = await Client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: $"involvedObject.name={name}");
        return [.. events.Items.OrderBy(e => e.Metadata.CreationTimestamp)];
    }

    public ValueTask DisposeAsync() => running.DisposeAsync();
}
