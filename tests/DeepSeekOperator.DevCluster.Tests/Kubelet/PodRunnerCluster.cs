using System.Globalization;
using System.Reflection;
using DeepSeekOperator.DevCluster.Internal.Kubelet;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

/// <summary>
/// An API emulator with a pod runner beside it serving node <see cref="Node"/>: the image <see cref="TestImage"/> runs
/// the TestServer helper as a process, every other image runs simulated; pods get the server's credentials.
/// Crash-loop back-off starts at 100 ms.
/// </summary>
internal sealed class PodRunnerCluster : IAsyncDisposable
{
    public const string Node = "node-1";
    public const string TestImage = "registry.local/dsop-test-server";
    public const int Port = 8080;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private static int clusters;

    private PodRunnerCluster(RunningApiServer api, string root)
    {
        Api = api;
        Root = root;
    }

    /// <summary>The TestServer helper's dll, built before the tests.</summary>
    public static string TestServerPath { get; } = typeof(PodRunnerCluster).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "TestServerPath").Value!;

    public RunningApiServer Api { get; }

    public Kubernetes Client => Api.Client;

    /// <summary>The runner's root directory (pods, logs, claims).</summary>
    public string Root { get; }

    /// <summary>Options for a runner whose pods get addresses from 127.<paramref name="network"/>.0.2 up (tests run clusters side by side).</summary>
    public static PodRunnerOptions Options(string root, int network) => new()
    {
        NodeNames = [Node],
        FirstPodIp = $"127.{network}.0.2",
        RootDirectory = root,
        Images = new Dictionary<string, IReadOnlyList<string>> { [TestImage] = ["dotnet", TestServerPath] },
        BackOffBase = TimeSpan.FromMilliseconds(100),
        BackOffMax = TimeSpan.FromSeconds(1),
        ShutdownGracePeriod = TimeSpan.FromSeconds(3),
    };

    public static async Task<PodRunnerCluster> StartAsync()
    {
        var root = Directory.CreateTempSubdirectory("dsop-kubelet-").FullName;
        var api = await RunningApiServer.StartAsync();
        var options = Options(root, 10 + Interlocked.Increment(ref clusters)) with
        {
            Credentials = new ServiceAccountCredentials(api.Server.HttpsUri, api.Server.CertificateAuthorityPem, api.Server.Token),
        };
        var runner = new PodRunner(api.Server.Objects, options, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        api.Server.PodLogs = runner;
        api.Server.RunBeside(runner.RunAsync);
        return new PodRunnerCluster(api, root);
    }

    /// <summary>
    /// A container running the TestServer on the pod's IP (given through a fieldRef) at <see cref="Port"/>, Ready once
    /// its <c>/readyz</c> answers.
    /// </summary>
    public static V1Container TestServer(string name = "server") => new()
    {
        Name = name,
        Image = TestImage,
        Env =
        [
            new V1EnvVar { Name = "POD_IP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } } },
            new V1EnvVar { Name = "PORT", Value = Port.ToString(CultureInfo.InvariantCulture) },
        ],
        Ports = [new V1ContainerPort { Name = "http", ContainerPort = Port }],
        ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/readyz", Port = "http" }, PeriodSeconds = 1 },
    };

    /// <summary>A pod bound to <see cref="Node"/> in <c>default</c>.</summary>
    public static V1Pod Pod(string name, params V1Container[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1PodSpec { NodeName = Node, Containers = containers, TerminationGracePeriodSeconds = 10 },
    };

    public Task<V1Pod> CreateAsync(V1Pod pod) => Client.CoreV1.CreateNamespacedPodAsync(pod, "default");

    /// <summary>Polls the pod until <paramref name="condition"/> holds, failing after <paramref name="seconds"/> with the last state seen.</summary>
    public async Task<V1Pod> WaitForAsync(string name, Func<V1Pod, bool> condition, string what, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        V1Pod? pod = null;
        while (DateTime.UtcNow < deadline)
        {
            pod = await Client.CoreV1.ReadNamespacedPodAsync(name, "default");
            if (condition(pod))
            {
                return pod;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"pod {name} never got {what}; last status: {KubernetesJson.Serialize(pod?.Status)}");
        return pod!;
    }

    /// <summary>Waits until the pod is gone from the API.</summary>
    public async Task WaitForGoneAsync(string name, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                await Client.CoreV1.ReadNamespacedPodAsync(name, "default");
            }
            catch (HttpOperationException error) when (error.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"pod {name} was never deleted");
    }

    public static bool IsReady(V1Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>The process id of a container's current instance, from its <c>dsop://&lt;pid&gt;</c> container ID.</summary>
    public static int Pid(V1Pod pod, string container = "server")
    {
        var id = pod.Status.ContainerStatuses.Single(c => c.Name == container).ContainerID;
        Assert.StartsWith("dsop://", id, StringComparison.Ordinal);
        return int.Parse(id["dsop://".Length..], CultureInfo.InvariantCulture);
    }

    /// <summary>GET on the pod's TestServer.</summary>
    public static async Task<(int Status, string Body)> GetAsync(V1Pod pod, string pathAndQuery)
    {
        using var response = await Http.GetAsync(new Uri($"http://{pod.Status.PodIP}:{Port}{pathAndQuery}"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Whether process <paramref name="pid"/> lives (a zombie waiting to be reaped does not count).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Waits until process <paramref name="pid"/> is gone.</summary>
    public static async Task WaitForExitAsync(int pid, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (IsAlive(pid))
        {
            Assert.True(DateTime.UtcNow < deadline, $"process {pid} is still alive");
            await Task.Delay(50);
        }
    }

    /// <summary>The events about pod <paramref name="name"/>, as <c>reason: message</c>.</summary>
    public async Task<List<string>> EventsAsync(string name)
    {
        var events = await Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: $"involvedObject.name={name}");
        return [.. events.Items.Select(e => $"{e.Reason}: {e.Message}")];
    }

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }
}
