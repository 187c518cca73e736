using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.DevCluster;
using DeepSeekOperator.DevCluster.Tests.Kubectl;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// The whole loop on one machine, as <c>dsop run</c> starts it but in the test's process: the dev cluster (routers and
/// shards of the project's image run as real <c>dsop</c> processes), the DeepSeekModel CRD, a real Prometheus scraping
/// the model pods every second through <see cref="PodScrapeTargets"/>, the operator with its three controllers
/// (reconciler, autoscaler, rebalancer), and <c>kubectl get dsm -w -o wide</c> recording what a user would see.
/// </summary>
internal sealed class OperatorOnDevCluster : IAsyncDisposable
{
    /// <summary>The namespace the models are created in.</summary>
    public const string Namespace = "default";

    /// <summary>Prometheus's scrape interval.</summary>
    public static readonly TimeSpan ScrapeInterval = TimeSpan.FromSeconds(1);

    // The image the dev cluster runs as this build's dsop (DevClusterUp.ProjectImage).
    private const string ProjectImage = "ghcr.io/deepseek-operator/dsop";
    private const string TargetsFile = "targets.json";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    private readonly string runtime;
    private readonly ILoggerFactory loggers;
    private readonly DevCluster.DevCluster cluster;
    private readonly PodScrapeTargets targets;
    private readonly OperatorHost host;
    private readonly RunningKubectl watch;
    private readonly HttpClient prometheusHttp = new();

    private OperatorOnDevCluster(
        string runtime, ILoggerFactory loggers, DevCluster.DevCluster cluster, Kubernetes client, PrometheusServer prometheus, PodScrapeTargets targets, OperatorHost host, Kubectl kubectl, RunningKubectl watch)
    {
        (this.runtime, this.loggers, this.cluster, Client, Prometheus, this.targets, this.host, Kubectl, this.watch) = (runtime, loggers, cluster, client, prometheus, targets, host, kubectl, watch);
        PrometheusClient = new PrometheusClient(prometheusHttp, new PrometheusClientOptions { Server = prometheus.BaseAddress });
    }

    /// <summary>A client of the dev cluster's API server.</summary>
    public Kubernetes Client { get; }

    /// <summary>The Prometheus the autoscaler reads.</summary>
    public PrometheusServer Prometheus { get; }

    /// <summary>A client of <see cref="Prometheus"/>, as the autoscaler has one.</summary>
    public PrometheusClient PrometheusClient { get; }

    /// <summary>kubectl against the dev cluster.</summary>
    public Kubectl Kubectl { get; }

    /// <summary>What <c>kubectl get dsm -w -o wide</c> has printed so far.</summary>
    public string Watched => watch.Output;

    /// <summary>Starts everything; the operator is the leader when this returns.</summary>
    public static async Task<OperatorOnDevCluster> StartAsync()
    {
        // One intra-op thread per pod process (libtorch reads OMP_NUM_THREADS, which the pods inherit): they share the cores.
        Environment.SetEnvironmentVariable("OMP_NUM_THREADS", "1");
        var runtime = Directory.CreateTempSubdirectory("dsop-e2e-").FullName;
        var loggers = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Warning));
        var cluster = await DevCluster.DevCluster.StartAsync(
            new DevClusterOptions
            {
                Api = new ApiServerOptions { HttpsPort = 0, HttpPort = null },
                RuntimeDirectory = Path.Combine(runtime, "pods"),
                ImageCommands = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [ProjectImage] = ["dotnet", DsopProcess.DsopDll] },
            },
            loggers);
        var kubeconfig = Path.Combine(runtime, "kubeconfig");
        cluster.Api.WriteKubeconfig(kubeconfig);
        var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        await InstallCrdAsync(client);

        var prometheus = await PrometheusServer.StartAsync(ScrapeConfig(), new Dictionary<string, string> { [TargetsFile] = "[]" }, ScrapeInterval);
        var targets = PodScrapeTargets.Start(client, Path.Combine(prometheus.DirectoryPath, TargetsFile));

        var settings = new OperatorSettings { RuntimeImage = ProjectImage + ":e2e" };
        var controllers = new[]
        {
            DeepSeekModelController.Factory(new DeepSeekModelControllerOptions { Settings = settings, Namespace = Namespace }),
            ModelAutoscaler.Factory(new ModelAutoscalerOptions { Namespace = Namespace }),
            RebalancerController.Factory(new RebalancerOptions { Settings = settings, Namespace = Namespace, PollInterval = TimeSpan.FromMilliseconds(500) }),
        };
        var host = await OperatorHost.StartAsync(
            new OperatorHostOptions { Kubeconfig = kubeconfig, LeaseNamespace = Namespace, BindAddress = "127.0.0.1", Port = 0 },
            controllers,
            logging => logging.SetMinimumLevel(LogLevel.Warning));

        var kubectl = new Kubectl(kubeconfig, Directory.CreateTempSubdirectory("dsop-kubectl-").FullName);
        var watch = kubectl.Start("get", "dsm", "-w", "-o", "wide");
        return new OperatorOnDevCluster(runtime, loggers, cluster, client, prometheus, targets, host, kubectl, watch);
    }

    /// <summary>Creates <paramref name="model"/> and waits until it is Ready and its gateway Service's cluster IP accepts connections.</summary>
    /// <returns>The gateway's OpenAI API root (<c>http://clusterIP:port/v1/</c>).</returns>
    public async Task<Uri> CreateReadyAsync(DeepSeekModel model, TimeSpan patience)
    {
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(model, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural);
        await EventuallyAsync(
            async () => await GetAsync(model.Metadata.Name) is { Status.Phase: ModelPhase.Ready } ready && ready.Status.ObservedGeneration == ready.Metadata.Generation ? ready : null,
            $"{model.Metadata.Name} Ready",
            patience);
        var service = await Client.CoreV1.ReadNamespacedServiceAsync(model.Metadata.Name, Namespace);
        var (address, port) = (service.Spec.ClusterIP, service.Spec.Ports[0].Port);
        await EventuallyAsync(
            async () =>
            {
                using var probe = new TcpClient();
                try
                {
                    await probe.ConnectAsync(address, port);
                    return "listening";
                }
                catch (SocketException)
                {
                    return null;
                }
            },
            $"the gateway {address}:{port} listening",
            patience);
        return new Uri($"http://{address}:{port.ToString(CultureInfo.InvariantCulture)}/v1/");
    }

    /// <summary>The model as the API server has it.</summary>
    public async Task<DeepSeekModel> GetAsync(string name) =>
        KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(
            await Client.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, name)));

    /// <summary>The ready pods of <paramref name="model"/>'s <paramref name="component"/> (<c>router</c> or <c>shard</c>), by name.</summary>
    public async Task<IReadOnlyList<V1Pod>> ReadyPodsAsync(string model, string component)
    {
        var pods = await Client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: $"app.kubernetes.io/instance={model},app.kubernetes.io/component={component}");
        return [.. pods.Items
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .OrderBy(p => p.Metadata.Name, StringComparer.Ordinal)];
    }

    /// <summary>The Events of <paramref name="model"/> with <paramref name="reason"/>.</summary>
    public async Task<IReadOnlyList<Corev1Event>> EventsAsync(string model, string reason)
    {
        var events = await Client.CoreV1.ListNamespacedEventAsync(Namespace);
        return [.. events.Items.Where(e => e.InvolvedObject.Kind == DeepSeekModel.KindName && e.InvolvedObject.Name == model && e.Reason == reason)];
    }

    /// <summary>What <c>kubectl get events</c> prints for the models.</summary>
    public async Task<string> KubectlEventsAsync()
    {
        var events = await Kubectl.RunAsync("get", "events", "--field-selector", "involvedObject.kind=" + DeepSeekModel.KindName);
        return events.ExitCode == 0 ? events.Output : events.ToString();
    }

    /// <summary>Polls <paramref name="probe"/> every 200 ms until it returns a value, failing after <paramref name="patience"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what, TimeSpan patience)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            Assert.True(clock.Elapsed < patience, $"not {what} within {patience.TotalSeconds} s");
            await Task.Delay(Poll);
        }
    }

    /// <summary>Stops kubectl, the operator, the target file, Prometheus and the cluster (every pod process), and removes their files.</summary>
    public async ValueTask DisposeAsync()
    {
        watch.Dispose();
        await host.DisposeAsync();
        await targets.DisposeAsync();
        await Prometheus.DisposeAsync();
        prometheusHttp.Dispose();
        Client.Dispose();
        await cluster.DisposeAsync();
        loggers.Dispose();
        try
        {
            Directory.Delete(runtime, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task InstallCrdAsync(Kubernetes client)
    {
        var crd = CustomResourceDefinitions.DeepSeekModel();
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        await EventuallyAsync(
            async () => (await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name)).Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true ? crd : null,
            "the CRD established",
            TimeSpan.FromSeconds(30));
    }

    // config/prometheus/prometheus.yml's job, with the pods from a file instead of the Kubernetes API (JSON is YAML).
    private static string ScrapeConfig()
    {
        var seconds = ScrapeInterval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        return System.Text.Json.JsonSerializer.Serialize(new
        {
            global = new { scrape_interval = seconds, scrape_timeout = seconds, evaluation_interval = seconds },
            scrape_configs = new[]
            {
                new { job_name = "deepseek-models", file_sd_configs = new[] { new { files = new[] { TargetsFile }, refresh_interval = seconds } } },
            },
        });
    }
}
