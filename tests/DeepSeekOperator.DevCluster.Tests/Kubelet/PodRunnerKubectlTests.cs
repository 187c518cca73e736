using DeepSeekOperator.DevCluster.Tests.Kubectl;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

/// <summary>Real kubectl against pods the runner runs: logs, pod IPs in <c>get -o wide</c>, and a gRPC probe.</summary>
public sealed class PodRunnerKubectlTests : IAsyncLifetime
{
    private PodRunnerCluster cluster = null!;
    private Kubectl.Kubectl kubectl = null!;
    private string home = null!;

    public async Task InitializeAsync()
    {
        cluster = await PodRunnerCluster.StartAsync();
        home = Directory.CreateTempSubdirectory("dsop-kubelet-kubectl-").FullName;
        var kubeconfig = Path.Combine(home, "kubeconfig");
        cluster.Api.Server.WriteKubeconfig(kubeconfig);
        kubectl = new Kubectl.Kubectl(kubeconfig, home);
    }

    public async Task DisposeAsync()
    {
        await cluster.DisposeAsync();
        Directory.Delete(home, recursive: true);
    }

    [Fact]
    public async Task KubectlLogsAndGetPodsWide_ShowTheProcessOutputAndThePodIp()
    {
        var container = PodRunnerCluster.TestServer();

        // The TestServer serves grpc.health.v1 on a second port; the readiness probe asks it over cleartext HTTP/2.
        container.Args = ["--grpc-port", "9090"];
        container.ReadinessProbe = new V1Probe { Grpc = new V1GRPCAction { Port = 9090 }, PeriodSeconds = 1 };
        await cluster.CreateAsync(PodRunnerCluster.Pod("grpc", container));
        var pod = await cluster.WaitForAsync("grpc", PodRunnerCluster.IsReady, "Ready");

        var logs = await Ok("logs", "grpc");
        var wide = await Ok("get", "pods", "-o", "wide");

        Assert.Contains($"listening on {pod.Status.PodIP}:{PodRunnerCluster.Port}", logs.Lines);
        Assert.Contains("POST /grpc.health.v1.Health/Check", logs.Lines);
        var columns = wide.Lines.Single(l => l.StartsWith("grpc ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["grpc", "1/1", "Running", "0"], columns[..4]);
        Assert.Contains(pod.Status.PodIP, columns);
        Assert.Contains(PodRunnerCluster.Node, columns);

        await PodRunnerCluster.GetAsync(pod, "/set?grpc=fail");

        await cluster.WaitForAsync("grpc", p => !PodRunnerCluster.IsReady(p), "not Ready");
        Assert.Contains("Unhealthy: Readiness probe failed: service unhealthy (responded with \"NOT_SERVING\")", await cluster.EventsAsync("grpc"));
    }

    private async Task<KubectlResult> Ok(params string[] args)
    {
        var result = await kubectl.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed: {result}");
        return result;
    }
}
