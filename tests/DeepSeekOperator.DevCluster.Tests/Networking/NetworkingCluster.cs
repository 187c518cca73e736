using System.Text.Json;
using DeepSeekOperator.DevCluster.Internal.Networking;
using DeepSeekOperator.DevCluster.Internal.Scheduling;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.DevCluster.Tests.Networking;

/// <summary>
/// An API server with a virtual node and the endpoints controllers, and the service proxy when asked; tests play the
/// kubelet by writing pod status.
/// </summary>
internal sealed class NetworkingCluster : IAsyncDisposable
{
    public const string NodeName = "dev-node-1";
    private readonly RunningApiServer running;

    private NetworkingCluster(RunningApiServer running) => this.running = running;

    public Kubernetes Client => running.Client;

    /// <summary>Starts the cluster; with <paramref name="proxyLogs"/>, the service proxy too, logging there.</summary>
    public static async Task<NetworkingCluster> StartAsync(ILoggerFactory? proxyLogs = null)
    {
        var running = await RunningApiServer.StartAsync();
        var objects = running.Server.Objects;
        var zoned = NodeSpec.Default() with { Labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = "zone-a" } };
        running.Server.RunBeside(new VirtualNodes(objects, [zoned], NullLoggerFactory.Instance).RunAsync);
        running.Server.RunBeside(new EndpointSliceController(objects, NullLoggerFactory.Instance).RunAsync);
        running.Server.RunBeside(new EndpointsController(objects, NullLoggerFactory.Instance).RunAsync);
        if (proxyLogs is not null)
        {
            running.Server.RunBeside(new ServiceProxy(objects, proxyLogs).RunAsync);
        }
        var cluster = new NetworkingCluster(running);
        await Conformance.Eventually.ReadAsync(() => cluster.Client.CoreV1.ListNodeAsync(), nodes => nodes.Items.Count == 1, "node registration");
        return cluster;
    }

    public Task<V1Service> ServiceAsync(string name, IntOrString targetPort, string portName = "http", bool headless = false) =>
        Client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service
            {
                Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["tier"] = "front" } },
                Spec = new V1ServiceSpec
                {
                    ClusterIP = headless ? "None" : null,
                    Selector = new Dictionary<string, string> { ["app"] = name },
                    Ports = [new V1ServicePort { Name = portName, Port = 80, TargetPort = targetPort }],
                },
            },
            "default");

    /// <summary>Creates a pod of <paramref name="app"/> bound to the node, running at <paramref name="ip"/>.</summary>
    public async Task<V1Pod> PodAsync(string name, string app, string ip, bool ready, params V1ContainerPort[] ports)
    {
        await Client.CoreV1.CreateNamespacedPodAsync(
            new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = app } },
                Spec = new V1PodSpec
                {
                    NodeName = NodeName,
                    Containers = [new V1Container { Name = "main", Image = "example.com/web:1", Ports = ports.Length == 0 ? null : ports }],
                },
            },
            "default");
        return await RunningAsync(name, ip, ready);
    }

    /// <summary>Writes the status a kubelet would for a running pod, Ready or not.</summary>
    public Task<V1Pod> RunningAsync(string name, string ip, bool ready)
    {
        var status = new
        {
            status = new
            {
                phase = "Running",
                podIP = ip,
                podIPs = new[] { new { ip } },
                conditions = new[]
                {
                    new { type = "Ready", status = ready ? "True" : "False", lastTransitionTime = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) },
                },
            },
        };
        return Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(JsonSerializer.Serialize(status), V1Patch.PatchType.MergePatch), name, "default");
    }

    /// <summary>Waits until the Service's managed slices satisfy <paramref name="done"/>.</summary>
    public async Task<IReadOnlyList<V1EndpointSlice>> SlicesAsync(string service, Func<IReadOnlyList<V1EndpointSlice>, bool> done, string what)
    {
        var list = await Conformance.Eventually.ReadAsync(
            () => Client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: $"kubernetes.io/service-name={service}"),
            l => done(l.Items.ToList()),
            what);
        return [.. list.Items];
    }

    /// <summary>Waits until the Service's Endpoints satisfy <paramref name="done"/>.</summary>
    public Task<V1Endpoints> EndpointsAsync(string service, Func<V1Endpoints, bool> done, string what) =>
        Conformance.Eventually.ReadAsync(
            async () =>
            {
                try
                {
                    return await Client.CoreV1.ReadNamespacedEndpointsAsync(service, "default");
                }
                catch (k8s.Autorest.HttpOperationException error) when (error.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    return new V1Endpoints();
                }
            },
            e => e.Metadata is not null && done(e),
            what);

    /// <summary>The endpoints of all slices as "ip ready/serving/terminating", by IP.</summary>
    public static List<string> Summary(IEnumerable<V1EndpointSlice> slices) =>
        [.. slices.SelectMany(s => s.Endpoints ?? [])
            .Select(e => $"{e.Addresses[0]} {Flag(e.Conditions?.Ready)}/{Flag(e.Conditions?.Serving)}/{Flag(e.Conditions?.Terminating)}")
            .Order(StringComparer.Ordinal)];

    public ValueTask DisposeAsync() => running.DisposeAsync();

    private static string Flag(bool? value) => value == true ? "T" : "F";
}
