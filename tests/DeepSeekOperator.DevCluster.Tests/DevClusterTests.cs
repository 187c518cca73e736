using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using DeepSeekOperator.DevCluster.Tests.Kubelet;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests;

/// <summary>
/// The whole development cluster together: the workload controllers, the scheduler and the pod runner roll a
/// Deployment of real processes, replace them respecting maxUnavailable, and leave no process behind; the service proxy
/// reaches them at their Service's cluster IP, and they reach the API server with their kubeconfig.
/// </summary>
public sealed class DevClusterTests
{
    private const string Image = "registry.local/test-server:1";

    [Fact]
    public async Task RollingUpdate_ReplacesProcessesWithoutGoingBelowTheReplicas_AndDeletionLeavesNoProcess()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", "1"), "default");
        var first = await WaitForRolloutAsync(client, "web");
        var firstPids = await PidsAsync(client, "web");
        Assert.Equal(2, firstPids.Count);
        Assert.All(firstPids, pid => Assert.True(Alive(pid), $"process {pid} is not running"));

        var changed = await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        changed.Spec.Template.Spec.Containers[0].Env.Add(new V1EnvVar { Name = "VERSION", Value = "2" });
        await client.AppsV1.ReplaceNamespacedDeploymentAsync(changed, "web", "default");
        var lowest = int.MaxValue;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        V1Deployment current;
        do
        {
            var pods = await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app=web");
            lowest = Math.Min(lowest, pods.Items.Count(p => p.Metadata.DeletionTimestamp is null && IsReady(p)));
            current = await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
            Assert.True(DateTime.UtcNow < deadline, $"the rollout did not finish: {KubernetesJson.Serialize(current.Status)}");
        }
        while (!RolledOut(current));

        Assert.True(lowest >= 2, $"only {lowest} ready pods during a rollout with maxUnavailable 0");
        var secondPids = await PidsAsync(client, "web");
        Assert.Equal(2, secondPids.Count);
        Assert.Empty(secondPids.Intersect(firstPids));
        await WaitAsync(() => firstPids.All(pid => !Alive(pid)), "the old processes to exit");
        Assert.NotEqual(first.Status.ObservedGeneration, current.Status.ObservedGeneration);

        await client.AppsV1.DeleteNamespacedDeploymentAsync("web", "default", propagationPolicy: "Foreground");
        await WaitAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app=web")).Items.Count == 0, "the pods to go");
        Assert.All(secondPids, pid => Assert.False(Alive(pid), $"process {pid} outlived its pod"));
    }

    [Fact]
    public async Task StoppingTheCluster_LeavesNoProcessBehind()
    {
        List<int> pids;
        await using (var cluster = await StartAsync())
        {
            using var client = Client(cluster);
            await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("api", "1"), "default");
            await WaitForRolloutAsync(client, "api");
            pids = await PidsAsync(client, "api");
            Assert.Equal(2, pids.Count);
        }

        Assert.All(pids, pid => Assert.False(Alive(pid), $"process {pid} outlived the dev cluster"));
    }

    [Fact]
    public async Task ServiceClusterIp_ReachesTheProcesses_WhichHoldAKubeconfigThatListsTheirEndpointSlices()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("gw", "1"), "default");
        await client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "gw" },
                Spec = new V1ServiceSpec
                {
                    ClusterIP = "127.96.251.1",
                    Selector = new Dictionary<string, string> { ["app"] = "gw" },
                    Ports = [new V1ServicePort { Name = "http", Port = 8080, TargetPort = "http" }],
                },
            },
            "default");
        var allocated = await client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service { Metadata = new V1ObjectMeta { Name = "other" }, Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Port = 80 }] } },
            "default");
        Assert.StartsWith("127.96.", allocated.Spec.ClusterIP, StringComparison.Ordinal);
        await WaitForRolloutAsync(client, "gw");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        string? kubeconfig = null;
        await WaitAsync(
            async () =>
            {
                try
                {
                    kubeconfig = await http.GetStringAsync(new Uri("http://127.96.251.1:8080/env?name=KUBECONFIG"));
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            "the Service answering at its cluster IP");

        using var podClient = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig!));
        var slices = await podClient.DiscoveryV1.ListNamespacedEndpointSliceAsync("default", labelSelector: "kubernetes.io/service-name=gw");
        Assert.Equal(2, slices.Items.SelectMany(s => s.Endpoints ?? []).Count());
    }

    private static Task<DevCluster> StartAsync() =>
        DevCluster.StartAsync(new DevClusterOptions
        {
            Api = new ApiServerOptions { HttpPort = null },
            Nodes = [new DevNode("dev-node-1", "8", "16Gi")],
            ImageCommands = new Dictionary<string, IReadOnlyList<string>> { [Image] = ["dotnet", PodRunnerCluster.TestServerPath] },
        });

    private static Kubernetes Client(DevCluster cluster) => new(new KubernetesClientConfiguration
    {
        Host = cluster.Api.HttpsUri.ToString(),
        AccessToken = cluster.Api.Token,
        SslCaCerts = [X509Certificate2.CreateFromPem(cluster.Api.CertificateAuthorityPem)],
    });

    private static V1Deployment Deployment(string name, string version) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = 2,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Strategy = new V1DeploymentStrategy
            {
                Type = "RollingUpdate",
                RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = "1", MaxUnavailable = "0" },
            },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec
                {
                    TerminationGracePeriodSeconds = 5,
                    Containers =
                    [
                        new V1Container
                        {
                            Name = "server",
                            Image = Image,
                            Env =
                            [
                                new V1EnvVar { Name = "POD_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } },
                                new V1EnvVar { Name = "PORT", Value = "8080" },
                                new V1EnvVar { Name = "RELEASE", Value = version },
                            ],
                            Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }],
                            ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/readyz", Port = "http" }, PeriodSeconds = 1 },
                        },
                    ],
                },
            },
        },
    };

    private static bool RolledOut(V1Deployment deployment) =>
        deployment.Status is { } status
        && status.ObservedGeneration >= deployment.Metadata.Generation
        && status.UpdatedReplicas == 2 && status.AvailableReplicas == 2 && status.Replicas == 2;

    private static async Task<V1Deployment> WaitForRolloutAsync(Kubernetes client, string name)
    {
        V1Deployment? deployment = null;
        await WaitAsync(async () => RolledOut(deployment = await client.AppsV1.ReadNamespacedDeploymentAsync(name, "default")), $"deployment {name} to roll out");
        return deployment!;
    }

    private static bool IsReady(V1Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    private static async Task<List<int>> PidsAsync(Kubernetes client, string app)
    {
        var pods = await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: $"app={app}");
        return [.. pods.Items.Where(p => p.Metadata.DeletionTimestamp is null)
            .SelectMany(p => p.Status?.ContainerStatuses ?? [])
            .Where(c => c.ContainerID is not null)
            .Select(c => int.Parse(c.ContainerID[(c.ContainerID.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture))];
    }

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    private static Task WaitAsync(Func<bool> condition, string what) => WaitAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}
