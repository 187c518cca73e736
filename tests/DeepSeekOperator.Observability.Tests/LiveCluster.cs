using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.DevCluster;
using DeepSeekOperator.E2E.Tests;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Observability.Tests;

/// <summary>
/// A real Prometheus (1 s scrapes) scraping a router and four shard processes of the tiny model under streaming load,
/// and a <c>dsop operator</c> process reconciling that model on the emulated API server, its autoscaler reading that
/// Prometheus and its rebalancer that router. The targets carry the labels the scrape configuration's relabelling
/// gives pods (<c>namespace</c>, <c>pod</c>, <c>model</c>, <c>component</c>, <c>shard</c>). No kubelet runs on the
/// emulator, so the fixture plays it: it reports the model's Deployments ready and registers the router process as the
/// model's ready router pod (<c>serving.port</c> is the router process's port).
/// </summary>
public sealed class LiveCluster : IAsyncLifetime, IDisposable
{
    /// <summary>The model's namespace, as <c>$namespace</c>.</summary>
    public const string Namespace = "models";

    /// <summary>The model's name, as <c>$model</c>.</summary>
    public const string Model = "tiny";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> background = [];
    private string directory = "";
    private ShardProcesses? shards;
    private RouterProcess? router;
    private ApiServer? api;
    private Kubernetes? client;
    private DsopProcess? operatorProcess;
    private HttpClient? http;

    // The Prometheus the dashboards' queries are run against.
    private PrometheusServer? prometheus;

    /// <summary>What the processes wrote, for failure messages.</summary>
    public string Output => $"--- router:\n{router?.Process.Output}\n--- operator:\n{operatorProcess?.Output}\n{shards?.Output}\n--- prometheus:\n{prometheus?.Output}";

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        directory = Directory.CreateTempSubdirectory("dsop-observability-").FullName;
        shards = await ShardProcesses.StartAsync(PlacementGenerator.Contiguous(ShardProcesses.Config, Model, 1, shards: 4, slotsPerShard: 4));
        router = await RouterProcess.StartAsync(shards, "--model-id", Model);

        api = await ApiServer.StartAsync(new ApiServerOptions());
        var kubeconfig = Path.Combine(directory, "kubeconfig");
        api.WriteKubeconfig(kubeconfig);
        client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        string line;
        (operatorProcess, line) = await DsopProcess.StartAsync(
            ["operator", "--kubeconfig", kubeconfig, "--namespace", Namespace, "--metrics-port", "0", "--bind", "127.0.0.1"], "metrics and probes on");
        var operatorAddress = "127.0.0.1:" + DsopProcess.Ports(line)[0].ToString(CultureInfo.InvariantCulture);

        var routerAddress = router.BaseAddress.Authority;
        var shardTargets = shards.Replicas.Select(r => new ScrapeTarget("127.0.0.1:" + r.MetricsPort.ToString(CultureInfo.InvariantCulture), Labels(
            "shard", ("pod", $"{Model}-shard-{r.Shard}-6d5f8c7b9-x7k2p"), ("shard", r.Shard.ToString(CultureInfo.InvariantCulture))))).ToList();
        prometheus = await PrometheusServer.StartAsync(
            [
                new ScrapeJob("deepseek-models", [new ScrapeTarget(routerAddress, Labels("router", ("pod", $"{Model}-router-5f7d9c8b4-q2w3e"))), .. shardTargets]),

                // The operator's series name the model's namespace themselves: like the ServiceMonitor with honorLabels.
                new ScrapeJob("deepseek-operator", [new ScrapeTarget(operatorAddress, new Dictionary<string, string> { ["pod"] = "deepseek-operator-0" })]),
            ],
            TimeSpan.FromSeconds(1));
        await prometheus.WaitUntilScrapedAsync([routerAddress, operatorAddress, .. shardTargets.Select(t => t.Address)], Patience);

        await CreateModelAsync(router.BaseAddress.Port);
        await EventuallyAsync("the operator creates the 5 Deployments", async () => (await client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items.Count == 5);

        // Tokens routed before the model is Ready, so that the rebalancer's first look finds load.
        http = new HttpClient { BaseAddress = router.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var first = await Sse.StreamAsync(http, "v1/chat/completions", Request("warm up"));
        Assert.True(first.Succeeded, $"{first}\n{Output}");
        background.AddRange(Enumerable.Range(0, 6).Select(c => Task.Run(() => LoadAsync(c, stop.Token))));
        background.Add(Task.Run(() => KubeletAsync(stop.Token)));
        await RegisterRouterPodAsync();
    }

    /// <summary>Waits until <paramref name="query"/> returns at least one series, and returns how many.</summary>
    public async Task<int> WaitForDataAsync(string query, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var count = await SeriesAsync(query);
            if (count > 0 || clock.Elapsed > timeout)
            {
                return count;
            }

            await Task.Delay(prometheus!.ScrapeInterval);
        }
    }

    /// <summary>How many series an instant query returns now; an error answer fails.</summary>
    public async Task<int> SeriesAsync(string query)
    {
        using var api = new HttpClient { BaseAddress = prometheus!.BaseAddress };
        using var response = await api.GetAsync(new Uri("api/v1/query?query=" + Uri.EscapeDataString(query), UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{query}: HTTP {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        var data = json.RootElement.GetProperty("data");
        return data.GetProperty("resultType").GetString() == "scalar" ? 1 : data.GetProperty("result").GetArrayLength();
    }

    /// <summary>Every metric name Prometheus has scraped.</summary>
    public async Task<IReadOnlySet<string>> MetricNamesAsync()
    {
        using var api = new HttpClient { BaseAddress = prometheus!.BaseAddress };
        using var json = JsonDocument.Parse(await api.GetStringAsync(new Uri("api/v1/label/__name__/values", UriKind.Relative)));
        return json.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetString()!).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The values a label takes on the series of <paramref name="match"/>.</summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string label, string match)
    {
        using var api = new HttpClient { BaseAddress = prometheus!.BaseAddress };
        var uri = new Uri($"api/v1/label/{label}/values?match[]={Uri.EscapeDataString(match)}", UriKind.Relative);
        using var json = JsonDocument.Parse(await api.GetStringAsync(uri));
        return [.. json.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetString()!)];
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(background.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        if (prometheus is not null)
        {
            await prometheus.DisposeAsync();
        }

        if (operatorProcess is not null)
        {
            await operatorProcess.DisposeAsync();
        }

        if (api is not null)
        {
            await api.DisposeAsync();
        }

        if (router is not null)
        {
            await router.DisposeAsync();
        }

        if (shards is not null)
        {
            await shards.DisposeAsync();
        }

        Dispose();
        if (directory.Length > 0)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        http?.Dispose();
        client?.Dispose();
        stop.Dispose();
    }

    private static Dictionary<string, string> Labels(string component, params (string Key, string Value)[] more)
    {
        var labels = new Dictionary<string, string> { ["namespace"] = Namespace, ["model"] = Model, ["component"] = component };
        foreach (var (key, value) in more)
        {
            labels[key] = value;
        }

        return labels;
    }

    private static System.Text.Json.Nodes.JsonObject Request(string content)
    {
        var body = Sse.Chat(content, maxTokens: 16);
        body["model"] = Model;
        return body;
    }

    // The tiny sample, Balanced, autoscaled from this Prometheus every 2 s with targets it never reaches (so that the
    // replicas stay 1), and serving on the router process's port.
    private async Task CreateModelAsync(int port)
    {
        var manifest = (await File.ReadAllTextAsync(Repository.PathOf("config/samples/tiny-synthetic.yaml")))
            .Replace("    strategy: Contiguous", "    strategy: Balanced", StringComparison.Ordinal)
            .Replace("    port: 8000", "    port: " + port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            + $$"""
              autoscaling:
                enabled: true
                prometheusUrl: {{prometheus!.BaseAddress}}
                interval: 2s
                routers:
                  minReplicas: 1
                  maxReplicas: 2
                  target: {metric: inflightRequests, averageValue: 1000}
                shards:
                  minReplicas: 1
                  maxReplicas: 2
                  target: {metric: tokensPerSecond, averageValue: 1000000}

            """;
        var read = DeepSeekModelManifest.Read(manifest);
        Assert.True(read.IsValid, string.Join("; ", read.Errors) + "\n" + manifest);
        var model = read.Model!;
        model.Metadata.NamespaceProperty = Namespace;
        Assert.Equal(PlacementStrategy.Balanced, model.Spec.Placement.Strategy);
        await EventuallyAsync("the API serves DeepSeekModels", async () =>
        {
            try
            {
                await client!.CustomObjects.CreateNamespacedCustomObjectAsync(model, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural);
                return true;
            }
            catch (k8s.Autorest.HttpOperationException)
            {
                return false;
            }
        });
    }

    // The router process as the model's ready router pod, which the rebalancer asks for /v1/expert-load.
    private async Task RegisterRouterPodAsync()
    {
        var pod = await client!.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = $"{Model}-router-5f7d9c8b4-q2w3e",
                Labels = new Dictionary<string, string>
                {
                    ["app.kubernetes.io/name"] = "deepseek-model",
                    ["app.kubernetes.io/instance"] = Model,
                    ["app.kubernetes.io/component"] = "router",
                    ["app.kubernetes.io/managed-by"] = "deepseek-operator",
                },
            },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "router", Image = "ghcr.io/deepseek-operator/dsop:test" }] },
        }, Namespace);
        pod.Status = new V1PodStatus
        {
            Phase = "Running",
            PodIP = "127.0.0.1",
            Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }],
        };
        await client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, pod.Metadata.Name, Namespace);
    }

    // What the kubelet and the Deployment controller would report: every replica of every Deployment up and ready.
    private async Task KubeletAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                foreach (var deployment in (await client!.AppsV1.ListNamespacedDeploymentAsync(Namespace, cancellationToken: cancellationToken)).Items)
                {
                    var replicas = deployment.Spec.Replicas ?? 1;
                    var status = deployment.Status;
                    if (status is not null && status.ObservedGeneration == deployment.Metadata.Generation && status.ReadyReplicas == replicas && status.UpdatedReplicas == replicas)
                    {
                        continue;
                    }

                    deployment.Status = new V1DeploymentStatus
                    {
                        ObservedGeneration = deployment.Metadata.Generation,
                        Replicas = replicas,
                        ReadyReplicas = replicas,
                        AvailableReplicas = replicas,
                        UpdatedReplicas = replicas,
                    };
                    await client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(deployment, deployment.Metadata.Name, Namespace, cancellationToken: cancellationToken);
                }
            }
            catch (k8s.Autorest.HttpOperationException)
            {
                // A conflict with the operator's write: the next round reads it again.
            }

            await Task.Delay(500, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    // One client streaming short completions back to back.
    private async Task LoadAsync(int client, CancellationToken cancellationToken)
    {
        for (var request = 0; !cancellationToken.IsCancellationRequested; request++)
        {
            try
            {
                await Sse.StreamAsync(http!, "v1/chat/completions", Request($"client {client} request {request}"), cancellationToken: cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task EventuallyAsync(string what, Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, $"not within {Patience.TotalSeconds} s: {what}");
            await Task.Delay(100);
        }
    }
}
