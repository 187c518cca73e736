using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.Controller.Tests.Children;
using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Prometheus;

/// <summary>
/// <c>config/prometheus/prometheus.yml</c>, the plain-Prometheus example. Debian's prometheus is built without
/// Kubernetes discovery, so the tests put a file_sd job in place of <c>kubernetes_sd_configs</c> and give it the
/// <c>__meta_kubernetes_pod_*</c> labels Kubernetes discovery derives from the operator's own pod templates: the
/// relabelling under test is the file's, unchanged.
/// </summary>
public sealed partial class ScrapeConfigExampleTests
{
    private const string ExampleFile = "config/prometheus/prometheus.yml";
    private const string ManagerFile = "config/manager/manager.yaml";
    private static readonly HttpClient Http = new();

    [Fact]
    public void Example_DiscoversPodsThroughKubernetes_InTheModelsJobAndTheOperatorJob()
    {
        var example = File.ReadAllText(Repository.PathOf(ExampleFile));
        Assert.Equal(2, KubernetesDiscovery().Count(example));
        Assert.All(KubernetesDiscovery().Matches(example), m => Assert.Contains("      - role: pod\n", m.Value, StringComparison.Ordinal));
        Assert.Contains("  - job_name: deepseek-operator\n    honor_labels: true\n", example, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Example_PassesPromtoolCheckConfig()
    {
        var directory = Directory.CreateTempSubdirectory("dsop-promtool-").FullName;
        try
        {
            var config = Path.Combine(directory, "prometheus.yml");
            await File.WriteAllTextAsync(config, WithFileDiscovery(await File.ReadAllTextAsync(Repository.PathOf(ExampleFile))));
            await File.WriteAllTextAsync(Path.Combine(directory, "pods.json"), "[]");

            var (exitCode, output) = await RunAsync(PrometheusServer.Tool("promtool"), "check", "config", config);

            Assert.True(exitCode == 0, output);
            Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Example_ScrapesTheMetricsPortOfRouterShardAndOperatorPods_ModelsWithModelComponentAndShard_OperatorKeepingItsSeriesNamespace()
    {
        var children = Samples.Build(Samples.TinyFile);
        var operatorRegistry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(operatorRegistry);
        factory.CreateGauge("dsop_leader", "1 on the leader.").Set(1);
        factory.CreateGauge("dsop_model_replicas", "Replicas per model and component.", "namespace", "model", "component").WithLabels("models", "tiny", "router").Set(2);
        await using var endpoint = await MetricsEndpoint.StartAsync(Metrics.NewCustomRegistry());
        await using var operatorEndpoint = await MetricsEndpoint.StartAsync(operatorRegistry);
        var port = PortOf(endpoint);
        var router = children.RouterDeployment.Spec.Template;
        var pods = new List<Dictionary<string, string>>();
        pods.AddRange(Targets(router, "tiny-router-a", "Running", port));
        pods.AddRange(Targets(router, "tiny-router-b", "Pending", port));
        foreach (var (shard, index) in children.ShardDeployments.Select((d, i) => (d.Spec.Template, i)))
        {
            pods.AddRange(Targets(shard, $"tiny-shard-{index}-a", "Running", port));
        }

        var unrelated = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" }, Annotations = router.Metadata.Annotations },
            Spec = router.Spec,
        };
        pods.AddRange(Targets(unrelated, "web-a", "Running", port));
        var manager = KubernetesYaml.Deserialize<V1Deployment>(await File.ReadAllTextAsync(Repository.PathOf(ManagerFile)));
        pods.AddRange(Targets(manager.Spec.Template, "deepseek-operator-a", "Running", PortOf(operatorEndpoint), manager.Metadata.NamespaceProperty));
        var config = WithFileDiscovery(await File.ReadAllTextAsync(Repository.PathOf(ExampleFile)))
            .Replace("scrape_interval: 5s", "scrape_interval: 1s", StringComparison.Ordinal)
            .Replace("scrape_timeout: 5s", "scrape_timeout: 1s", StringComparison.Ordinal);
        var groups = JsonSerializer.Serialize(pods.Select(labels => new { targets = new[] { labels["__address__"] }, labels = labels.Where(l => l.Key != "__address__").ToDictionary() }));

        await using var prometheus = await PrometheusServer.StartAsync(config, new Dictionary<string, string> { ["pods.json"] = groups }, TimeSpan.FromSeconds(1));
        var shards = children.ShardDeployments.Count;
        await prometheus.WaitUntilScrapedAsync([.. Enumerable.Repeat(endpoint.Address, 1 + shards), operatorEndpoint.Address], TimeSpan.FromSeconds(30));

        var client = new PrometheusClient(Http, new PrometheusClientOptions { Server = prometheus.BaseAddress });
        var up = await client.QueryVectorAsync("up{job=\"deepseek-models\"}");
        var model = children.RouterDeployment.Metadata.Labels[ChildLabels.InstanceKey];
        var expected = new[] { ("tiny-router-a", "router", "") }
            .Concat(Enumerable.Range(0, shards).Select(k => ($"tiny-shard-{k}-a", "shard", k.ToString(CultureInfo.InvariantCulture))))
            .Order()
            .ToArray();
        Assert.Equal(expected, up.Samples.Select(s => (s.Labels["pod"], s.Labels["component"], s.Labels.GetValueOrDefault("shard", ""))).Order().ToArray());
        Assert.All(up.Samples, s =>
        {
            Assert.Equal((1.0, model, "default", "deepseek-models", endpoint.Address), (s.Value, s.Labels["model"], s.Labels["namespace"], s.Labels["job"], s.Labels["instance"]));
        });

        var operatorUp = Assert.Single((await client.QueryVectorAsync("up{job=\"deepseek-operator\"}")).Samples);
        Assert.Equal((1.0, operatorEndpoint.Address, "deepseek-operator-a"), (operatorUp.Value, operatorUp.Labels["instance"], operatorUp.Labels["pod"]));
        var leader = Assert.Single((await client.QueryVectorAsync("dsop_leader")).Samples);
        Assert.Equal(("deepseek-operator", "deepseek-operator-system"), (leader.Labels["job"], leader.Labels["namespace"]));
        var replicas = Assert.Single((await client.QueryVectorAsync("dsop_model_replicas")).Samples);
        Assert.Equal(("deepseek-operator", "models", "tiny", "router", 2.0), (replicas.Labels["job"], replicas.Labels["namespace"], replicas.Labels["model"], replicas.Labels["component"], replicas.Value));
        Assert.DoesNotContain("exported_namespace", replicas.Labels.Keys);
    }

    private static int PortOf(MetricsEndpoint endpoint) => int.Parse(endpoint.Address.Split(':')[1], CultureInfo.InvariantCulture);

    /// <summary>
    /// The targets Kubernetes pod discovery makes of a pod from <paramref name="template"/>: one per container port,
    /// labelled as <c>discovery/kubernetes/pod.go</c> does. Pods run on 127.0.0.1, and the port the
    /// <c>prometheus.io/port</c> annotation names is moved to <paramref name="metricsPort"/>, the test endpoint's.
    /// </summary>
    private static IEnumerable<Dictionary<string, string>> Targets(V1PodTemplateSpec template, string name, string phase, int metricsPort, string @namespace = "default")
    {
        var annotated = int.Parse(template.Metadata.Annotations["prometheus.io/port"], CultureInfo.InvariantCulture);
        foreach (var container in template.Spec.Containers)
        {
            foreach (var port in container.Ports)
            {
                var number = port.ContainerPort == annotated ? metricsPort : port.ContainerPort;
                var labels = new Dictionary<string, string>
                {
                    ["__address__"] = $"127.0.0.1:{number.ToString(CultureInfo.InvariantCulture)}",
                    ["__meta_kubernetes_namespace"] = @namespace,
                    ["__meta_kubernetes_pod_name"] = name,
                    ["__meta_kubernetes_pod_ip"] = "127.0.0.1",
                    ["__meta_kubernetes_pod_phase"] = phase,
                    ["__meta_kubernetes_pod_container_name"] = container.Name,
                    ["__meta_kubernetes_pod_container_port_name"] = port.Name ?? "",
                    ["__meta_kubernetes_pod_container_port_number"] = number.ToString(CultureInfo.InvariantCulture),
                    ["__meta_kubernetes_pod_container_port_protocol"] = port.Protocol ?? "TCP",
                };
                foreach (var (key, value) in template.Metadata.Labels)
                {
                    labels["__meta_kubernetes_pod_label_" + LabelName(key)] = value;
                }

                foreach (var (key, value) in template.Metadata.Annotations)
                {
                    labels["__meta_kubernetes_pod_annotation_" + LabelName(key)] = key == "prometheus.io/port" ? metricsPort.ToString(CultureInfo.InvariantCulture) : value;
                }

                yield return labels;
            }
        }
    }

    /// <summary>The example with its Kubernetes discovery replaced by the file <c>pods.json</c> beside it.</summary>
    private static string WithFileDiscovery(string example)
    {
        var replaced = KubernetesDiscovery().Replace(example, "    file_sd_configs:\n      - files: [pods.json]\n");
        Assert.NotEqual(example, replaced);
        return replaced;
    }

    private static string LabelName(string key) => NotLabelCharacter().Replace(key, "_");

    private static async Task<(int ExitCode, string Output)> RunAsync(string executable, params string[] arguments)
    {
        var result = await ToolProcess.RunAsync(executable, arguments);
        return (result.ExitCode, result.Output + result.Error);
    }

    /// <summary>The <c>kubernetes_sd_configs</c> block of the job: its key and every line indented under it.</summary>
    [GeneratedRegex(@"^    kubernetes_sd_configs:\n(?:      .*\n)+", RegexOptions.Multiline)]
    private static partial Regex KubernetesDiscovery();

    [GeneratedRegex("[^a-zA-Z0-9_]")]
    private static partial Regex NotLabelCharacter();
}
