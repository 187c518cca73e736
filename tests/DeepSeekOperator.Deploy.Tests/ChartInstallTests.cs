using System.Diagnostics;
using DeepSeekOperator.DevCluster;
using DeepSeekOperator.DevCluster.Tests.Kubectl;
using DeepSeekOperator.Tests;
using k8s;
using Xunit.Abstractions;

namespace DeepSeekOperator.Deploy.Tests;

/// <summary>
/// The chart rendered with its defaults and applied with the real <c>kubectl apply</c> to a dev cluster whose pods run
/// as processes: the operator's two replicas are <c>dsop operator</c> processes with their service account's
/// credentials, one leads, and it reconciles the tiny sample to Ready with real router and shard processes.
/// The dev cluster serves every kind the default render holds (PodDisruptionBudget and NetworkPolicy included; it
/// stores NetworkPolicies and RBAC without enforcing them). The ServiceMonitor and PrometheusRule are not rendered:
/// with "auto" they need monitoring.coreos.com/v1, which neither helm template nor the dev cluster serves.
/// </summary>
public sealed class ChartInstallTests(ITestOutputHelper log) : IDisposable
{
    private const string ProjectImage = "ghcr.io/deepseek-operator/dsop";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string directory = Directory.CreateTempSubdirectory("dsop-chart-install-").FullName;

    [Fact]
    public async Task RenderedChartAppliedToTheDevCluster_OperatorPodsLeadAndReconcileTheTinySampleToReady()
    {
        var clock = Stopwatch.StartNew();
        var rendered = Path.Combine(directory, "deepseek-operator.yaml");
        await File.WriteAllTextAsync(rendered, await Tools.TemplateAsync(includeCrds: true));

        // The project's image runs this build's dsop, as dsop dev-cluster up maps it.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        await using var cluster = await DevCluster.DevCluster.StartAsync(new DevClusterOptions
        {
            Api = new ApiServerOptions { HttpsPort = 0, HttpPort = null },
            RuntimeDirectory = Path.Combine(directory, "pods"),
            ImageCommands = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
            {
                [ProjectImage] = [dotnet, Path.Combine(AppContext.BaseDirectory, "dsop.dll")],
            },
        });
        var kubeconfig = Path.Combine(directory, "kubeconfig");
        cluster.Api.WriteKubeconfig(kubeconfig);
        var kubectl = new Kubectl(kubeconfig, directory);

        Assert.Equal(0, (await kubectl.RunAsync("create", "namespace", Tools.Namespace)).ExitCode);
        var apply = await kubectl.RunAsync(["apply", "-f", rendered], null, Patience);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        log.WriteLine(apply.Output);
        Assert.Contains("customresourcedefinition.apiextensions.k8s.io/deepseekmodels.moe.deepseek-operator.io created", apply.Output, StringComparison.Ordinal);
        Assert.Contains("poddisruptionbudget.policy/deepseek-operator created", apply.Output, StringComparison.Ordinal);
        Assert.Contains("networkpolicy.networking.k8s.io/deepseek-operator created", apply.Output, StringComparison.Ordinal);

        var rollout = await kubectl.RunAsync(["-n", Tools.Namespace, "rollout", "status", "deployment/deepseek-operator", "--timeout=60s"], null, Patience);
        Assert.True(rollout.ExitCode == 0, rollout.ToString() + await LogsAsync(kubectl));
        log.WriteLine($"operator rolled out after {clock.Elapsed.TotalSeconds:0.0} s");

        // Each pod serves /metrics on its pod IP; exactly one of the two leads.
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        var pods = (await client.CoreV1.ListNamespacedPodAsync(Tools.Namespace, labelSelector: "app.kubernetes.io/component=manager")).Items;
        Assert.Equal(2, pods.Count);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await EventuallyAsync(async () =>
        {
            var leaders = 0;
            foreach (var pod in pods)
            {
                var metrics = await http.GetStringAsync(new Uri($"http://{pod.Status.PodIP}:8080/metrics"));
                leaders += metrics.Split('\n').Count(line => line == "dsop_leader 1");
            }

            return leaders == 1;
        });

        var sample = await kubectl.RunAsync("apply", "-f", Repository.PathOf("config/samples/tiny-synthetic.yaml"));
        Assert.True(sample.ExitCode == 0, sample.ToString());
        var wait = await kubectl.RunAsync(["wait", "--for=condition=Ready", "dsm/tiny", "--timeout=60s"], null, Patience + Patience);
        Assert.True(wait.ExitCode == 0, wait.ToString() + await LogsAsync(kubectl));
        log.WriteLine($"tiny Ready after {clock.Elapsed.TotalSeconds:0.0} s");

        // The routers and shards run the chart's runtime image (runtime.image, defaulting to the chart's appVersion).
        var images = await kubectl.RunAsync("get", "deployments", "-l", "app.kubernetes.io/instance=tiny", "-o", "jsonpath={.items[*].spec.template.spec.containers[0].image}");
        Assert.Equal(Enumerable.Repeat(ProjectImage + ":0.1.0", 5), images.Output.Split(' '));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<string> LogsAsync(Kubectl kubectl)
    {
        var logs = await kubectl.RunAsync("-n", Tools.Namespace, "logs", "-l", "app.kubernetes.io/component=manager", "--tail=30", "--prefix");
        var pods = await kubectl.RunAsync("get", "pods", "-A", "-o", "wide");
        return $"\noperator logs:\n{logs.Output}{logs.Error}\npods:\n{pods.Output}";
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, $"not within {Patience}");
            await Task.Delay(200);
        }
    }
}
