using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.DevCluster.Tests.Kubectl;
using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// What <c>make run</c> does, as a newcomer sees it: <c>dsop run</c> starts the dev cluster and the operator, the tiny
/// sample's router and shards run as real processes, the model becomes Ready, the printed endpoint answers a chat
/// completion, <c>kubectl</c> sees it, scaling the routers adds a process, and Ctrl-C stops every process.
/// </summary>
[Collection(OneDevClusterAtATime.Name)]
public sealed partial class MakeRunTests(ITestOutputHelper log) : IDisposable
{
    /// <summary>The bound on Ready this project states for the tiny sample on a 2-core machine (it takes about 15 s).</summary>
    private static readonly TimeSpan ReadyBound = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string runtime = Directory.CreateTempSubdirectory("dsop-run-").FullName;

    [Fact]
    public async Task MakeRunFlow_ReadyThenChatThroughTheGatewayThenScaleRoutersThenCtrlCStopsEverything()
    {
        var started = Stopwatch.StartNew();
        var (run, _) = await DsopProcess.StartAsync(
            ["run", "--file", Repository.PathOf("config/samples/tiny-synthetic.yaml"), "--runtime-dir", runtime, "--ready-timeout", "600"],
            "Press Ctrl-C",
            patience: ReadyBound);
        await using (run)
        {
            log.WriteLine($"Ready and printed in {started.Elapsed.TotalSeconds:0.0} s:\n{run.Output}");
            var endpoint = EndpointLine().Match(run.Output);
            Assert.True(endpoint.Success, run.Output);
            var api = new Uri(endpoint.Groups["url"].Value + "/");
            Assert.Contains($"curl -N {endpoint.Groups["url"].Value}/chat/completions", run.Output, StringComparison.Ordinal);

            // The gateway Service's address, as printed, serves the OpenAI API of the model's router.
            using var http = new HttpClient { BaseAddress = api, Timeout = Patience };
            using var chat = await http.PostAsJsonAsync("chat/completions", new
            {
                model = "tiny",
                messages = new[] { new { role = "user", content = "Hello, experts" } },
                max_tokens = 8,
            });
            var body = await chat.Content.ReadAsStringAsync();
            Assert.True(chat.IsSuccessStatusCode, body);
            var completion = JsonNode.Parse(body)!;
            Assert.Equal(8, (int)completion["usage"]!["completion_tokens"]!);
            Assert.False(string.IsNullOrEmpty((string?)completion["choices"]![0]!["message"]!["content"]));

            // kubectl against the same cluster: applying the sample again changes nothing, and the model is Ready with its endpoint.
            var kubeconfig = Path.Combine(runtime, "kubeconfig");
            var kubectl = new Kubectl(kubeconfig, Directory.CreateTempSubdirectory("dsop-kubectl-").FullName);
            var apply = await kubectl.RunAsync("apply", "-f", Repository.PathOf("config/samples/tiny-synthetic.yaml"));
            Assert.True(apply.ExitCode == 0, apply.ToString());
            var wait = await kubectl.RunAsync(["wait", "--for=condition=Ready", "deepseekmodel/tiny", "--timeout=60s"], null, Patience);
            Assert.True(wait.ExitCode == 0, wait.ToString());
            Assert.Contains("condition met", wait.Output, StringComparison.Ordinal);
            var get = await kubectl.RunAsync("get", "dsm");
            Assert.True(get.ExitCode == 0, get.ToString());
            log.WriteLine(get.Output);
            var row = get.Lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("tiny", row[0]);
            Assert.Equal("True", row[1]);
            Assert.Contains("http://tiny.default.svc.cluster.local:8000/v1", get.Output, StringComparison.Ordinal);

            // Two routers: a second router process comes up, serves on its own pod IP, and the model is Ready again.
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
            var processesBefore = PodProcesses();
            var patch = new V1Patch("""{"spec":{"router":{"replicas":2}}}""", V1Patch.PatchType.MergePatch);
            await client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, DeepSeekModel.Group, DeepSeekModel.Version, "default", DeepSeekModel.Plural, "tiny");
            var routers = await OperatorOnDevCluster.EventuallyAsync(
                async () =>
                {
                    var pods = await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app.kubernetes.io/instance=tiny,app.kubernetes.io/component=router");
                    var ready = pods.Items.Where(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true).ToList();
                    return ready.Count == 2 ? ready : null;
                },
                "two ready routers",
                Patience);
            foreach (var router in routers)
            {
                using var health = await http.GetAsync(new Uri($"http://{router.Status.PodIP}:8000/healthz"));
                Assert.True(health.IsSuccessStatusCode, $"router {router.Metadata.Name} at {router.Status.PodIP}: {health.StatusCode}");
            }

            Assert.Equal(processesBefore.Count + 1, PodProcesses().Count);
            var wait2 = await kubectl.RunAsync(["wait", "--for=jsonpath={.status.routers.readyReplicas}=2", "deepseekmodel/tiny", "--timeout=60s"], null, Patience);
            Assert.True(wait2.ExitCode == 0, wait2.ToString());

            // Ctrl-C: dsop run stops the operator, every pod's process and the cluster, and exits 0.
            Assert.NotEmpty(PodProcesses());
            var exitCode = await run.InterruptAsync(Patience);
            log.WriteLine(run.Output);
            Assert.Equal(0, exitCode);
            Assert.Contains("Stopped.", run.Output, StringComparison.Ordinal);
            Assert.Empty(PodProcesses());
        }
    }

    [Fact]
    public async Task CheckpointOnAHostPath_ConfigReadByTheInspectorPod_ThenServed()
    {
        var checkpoint = Path.Combine(runtime, "checkpoint");
        var (init, _) = await DsopProcess.StartAsync(["model", "init", "--preset", "tiny", "--seed", "3", "--out", checkpoint], "wrote ");
        await using (init)
        {
            await init.WaitForExitAsync(Patience);
        }

        var manifest = Path.Combine(runtime, "checkpoint.yaml");
        await File.WriteAllTextAsync(manifest, $$$"""
            apiVersion: moe.deepseek-operator.io/v1alpha1
            kind: DeepSeekModel
            metadata: {name: local}
            spec:
              model:
                source: {hostPath: {path: {{{checkpoint}}}}}
                dtype: float32
              runtime: {device: cpu}
              experts: {shards: 2}
            """);

        var (run, _) = await DsopProcess.StartAsync(
            ["run", "--file", manifest, "--runtime-dir", Path.Combine(runtime, "run"), "--ready-timeout", "600"], "Press Ctrl-C", patience: ReadyBound);
        await using (run)
        {
            log.WriteLine(run.Output);
            Assert.Contains("ReadingModelConfig", run.Output, StringComparison.Ordinal);
            var kubeconfig = Path.Combine(runtime, "run", "kubeconfig");
            using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
            var reader = Assert.Single((await client.CoreV1.ListNamespacedPodAsync("default", labelSelector: "app.kubernetes.io/component=config-reader")).Items);
            Assert.Equal("Succeeded", reader.Status.Phase);
            var model = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(
                await client.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, "default", DeepSeekModel.Plural, "local")));
            Assert.Equal(16, model.Status!.Experts);

            var endpoint = EndpointLine().Match(run.Output);
            Assert.True(endpoint.Success, run.Output);
            using var http = new HttpClient { BaseAddress = new Uri(endpoint.Groups["url"].Value + "/"), Timeout = Patience };
            using var completion = await http.PostAsJsonAsync("completions", new { model = "local", prompt = "Hello", max_tokens = 4 });
            var body = await completion.Content.ReadAsStringAsync();
            Assert.True(completion.IsSuccessStatusCode, body);
            Assert.Equal(4, (int)JsonNode.Parse(body)!["usage"]!["completion_tokens"]!);
            Assert.Equal(0, await run.InterruptAsync(Patience));
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(runtime, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// The processes the dev cluster runs for pods: their command lines name files under the runtime directory (the
    /// placement ConfigMap's volume), which nothing else on the machine does.
    /// </summary>
    private List<int> PodProcesses() =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && pid != Environment.ProcessId && CommandLine(pid).Contains(Path.Combine(runtime, "pods"), StringComparison.Ordinal)
                && CommandLine(pid).Contains("placement", StringComparison.Ordinal))];

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    [GeneratedRegex(@"OpenAI-compatible API: (?<url>http://[0-9.]+:\d+/v1)")]
    private static partial Regex EndpointLine();
}
