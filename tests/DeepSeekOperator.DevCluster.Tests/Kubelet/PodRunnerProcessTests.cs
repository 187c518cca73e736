using System.Diagnostics;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

/// <summary>Pods whose image maps to a local command run as processes: readiness, restarts, probes, logs, deletion.</summary>
public sealed class PodRunnerProcessTests : IAsyncLifetime
{
    private PodRunnerCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await PodRunnerCluster.StartAsync();

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task ProcessPod_BecomesReadyThroughItsHttpGetReadinessProbe_OnItsOwnLoopbackAddress()
    {
        await cluster.CreateAsync(PodRunnerCluster.Pod("web", PodRunnerCluster.TestServer()));

        var pod = await cluster.WaitForAsync("web", PodRunnerCluster.IsReady, "Ready");

        Assert.Equal("Running", pod.Status.Phase);
        Assert.Matches(@"^127\.\d+\.0\.2$", pod.Status.PodIP);
        Assert.NotEqual("127.0.0.1", pod.Status.PodIP);
        Assert.Equal("127.0.0.1", pod.Status.HostIP);
        var status = Assert.Single(pod.Status.ContainerStatuses);
        Assert.True(status.Ready);
        Assert.True(status.Started);
        Assert.NotNull(status.State.Running);
        Assert.Equal(0, status.RestartCount);
        Assert.True(PodRunnerCluster.IsAlive(PodRunnerCluster.Pid(pod)));
        Assert.Equal((200, "ok"), await PodRunnerCluster.GetAsync(pod, "/healthz"));
        Assert.Equal(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"], pod.Status.Conditions.Select(c => c.Type));
        var events = await cluster.EventsAsync("web");
        Assert.Contains($"Pulled: Container image \"{PodRunnerCluster.TestImage}\" already present on machine", events);
        Assert.Contains("Created: Created container: server", events);
        Assert.Contains("Started: Started container server", events);
    }

    [Fact]
    public async Task KilledProcess_IsRestarted_WithRestartCountOneAndLastStateTerminated()
    {
        await cluster.CreateAsync(PodRunnerCluster.Pod("crash", PodRunnerCluster.TestServer()));
        var first = await cluster.WaitForAsync("crash", PodRunnerCluster.IsReady, "Ready");
        var pid = PodRunnerCluster.Pid(first);

        Process.GetProcessById(pid).Kill();

        var pod = await cluster.WaitForAsync("crash", p => p.Status.ContainerStatuses[0].RestartCount == 1 && PodRunnerCluster.IsReady(p), "a restart");
        var status = pod.Status.ContainerStatuses[0];
        Assert.Equal(137, status.LastState.Terminated.ExitCode);
        Assert.Equal("Error", status.LastState.Terminated.Reason);
        Assert.Equal($"dsop://{pid}", status.LastState.Terminated.ContainerID);
        Assert.NotEqual(pid, PodRunnerCluster.Pid(pod));
        Assert.Equal(first.Status.PodIP, pod.Status.PodIP);

        using var previous = new StreamReader(await cluster.Client.CoreV1.ReadNamespacedPodLogAsync("crash", "default", previous: true));
        Assert.Contains($"listening on {pod.Status.PodIP}:{PodRunnerCluster.Port}", await previous.ReadToEndAsync());
    }

    [Fact]
    public async Task FailingLivenessProbe_RestartsTheContainer_WithUnhealthyAndKillingEvents()
    {
        var container = PodRunnerCluster.TestServer();

        // The startup probe holds the liveness probe back until the server listens.
        container.StartupProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = PodRunnerCluster.Port }, PeriodSeconds = 1, FailureThreshold = 30 };
        container.LivenessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = PodRunnerCluster.Port }, PeriodSeconds = 1, FailureThreshold = 1 };
        await cluster.CreateAsync(PodRunnerCluster.Pod("sick", container));
        var pod = await cluster.WaitForAsync("sick", PodRunnerCluster.IsReady, "Ready");

        await PodRunnerCluster.GetAsync(pod, "/set?healthz=fail");

        pod = await cluster.WaitForAsync("sick", p => p.Status.ContainerStatuses[0].RestartCount == 1, "a restart");
        Assert.NotNull(pod.Status.ContainerStatuses[0].LastState.Terminated);
        var events = await cluster.EventsAsync("sick");
        Assert.Contains("Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500", events);
        Assert.Contains("Killing: Container server failed liveness probe, will be restarted", events);
    }

    [Fact]
    public async Task DeletedPod_ProcessStopsOnSigterm_AndThePodIsRemovedWithNoProcessLeft()
    {
        await cluster.CreateAsync(PodRunnerCluster.Pod("doomed", PodRunnerCluster.TestServer()));
        var pod = await cluster.WaitForAsync("doomed", PodRunnerCluster.IsReady, "Ready");
        var pid = PodRunnerCluster.Pid(pod);
        var started = Stopwatch.StartNew();

        await cluster.Client.CoreV1.DeleteNamespacedPodAsync("doomed", "default");

        await cluster.WaitForGoneAsync("doomed");
        Assert.False(PodRunnerCluster.IsAlive(pid));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(8), $"the pod took {started.Elapsed} to go: SIGTERM did not stop it before the 10 s grace period");
        Assert.Contains("Killing: Stopping container server", await cluster.EventsAsync("doomed"));
        Assert.False(Directory.Exists(Path.Combine(cluster.Root, "pods", pod.Metadata.Uid)));
    }

    [Fact]
    public async Task PodLog_ReturnsTheProcessOutput_WithTailLinesAndTimestamps()
    {
        await cluster.CreateAsync(PodRunnerCluster.Pod("chatty", PodRunnerCluster.TestServer()));
        var pod = await cluster.WaitForAsync("chatty", PodRunnerCluster.IsReady, "Ready");
        await PodRunnerCluster.GetAsync(pod, "/healthz");

        var all = await ReadLogAsync("chatty");
        var last = await ReadLogAsync("chatty", tailLines: 1, timestamps: true);

        var lines = all.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"listening on {pod.Status.PodIP}:{PodRunnerCluster.Port}", lines[0]);
        Assert.Contains("GET /healthz", lines);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z GET /\w+\n$", last);
    }

    [Fact]
    public async Task EnvironmentFromFieldRefConfigMapKeyRefAndExpansion_ReachesTheProcess()
    {
        await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings" }, Data = new Dictionary<string, string> { ["mode"] = "fast" } }, "default");
        var container = PodRunnerCluster.TestServer();
        container.Env.Add(new V1EnvVar { Name = "MY_NAME", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } });
        container.Env.Add(new V1EnvVar { Name = "APP", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels['app']" } } });
        container.Env.Add(new V1EnvVar { Name = "MODE", ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = "settings", Key = "mode" } } });
        container.Env.Add(new V1EnvVar { Name = "GREETING", Value = "$(MY_NAME) runs $(MODE), $$(MODE) and $(UNDEFINED) stay" });
        await cluster.CreateAsync(PodRunnerCluster.Pod("envy", container));
        var pod = await cluster.WaitForAsync("envy", PodRunnerCluster.IsReady, "Ready");

        Assert.Equal((200, "envy"), await PodRunnerCluster.GetAsync(pod, "/env?name=MY_NAME"));
        Assert.Equal((200, "envy"), await PodRunnerCluster.GetAsync(pod, "/env?name=APP"));
        Assert.Equal((200, "fast"), await PodRunnerCluster.GetAsync(pod, "/env?name=MODE"));
        Assert.Equal((200, "envy runs fast, $(MODE) and $(UNDEFINED) stay"), await PodRunnerCluster.GetAsync(pod, "/env?name=GREETING"));
        Assert.Equal((200, pod.Status.PodIP), await PodRunnerCluster.GetAsync(pod, "/env?name=POD_IP"));
        Assert.Equal(200, (await PodRunnerCluster.GetAsync(pod, "/env?name=KUBERNETES_SERVICE_HOST")).Status);
    }

    private async Task<string> ReadLogAsync(string pod, int? tailLines = null, bool? timestamps = null)
    {
        using var reader = new StreamReader(await cluster.Client.CoreV1.ReadNamespacedPodLogAsync(pod, "default", tailLines: tailLines, timestamps: timestamps));
        return await reader.ReadToEndAsync();
    }
}
