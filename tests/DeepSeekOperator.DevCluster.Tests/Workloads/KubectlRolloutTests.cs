namespace DeepSeekOperator.DevCluster.Tests.Workloads;

public sealed class KubectlRolloutTests
{
    private const string Manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: main
                image: registry.local/web:1
        """;

    [Fact]
    public async Task RolloutStatus_WaitsForPodsToBecomeReady_ThenReportsSuccess()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        var home = Directory.CreateTempSubdirectory("dsop-rollout-").FullName;
        try
        {
            var kubeconfig = Path.Combine(home, "kubeconfig");
            cluster.Server.WriteKubeconfig(kubeconfig);
            var kubectl = new Kubectl.Kubectl(kubeconfig, home);
            cluster.Kubelet.Ready = _ => false;
            var applied = await kubectl.RunWithInputAsync(Manifest, "apply", "-f", "-");
            Assert.True(applied.ExitCode == 0, applied.ToString());

            using var rollout = kubectl.Start("rollout", "status", "deployment/web", "--timeout=30s");
            await rollout.WaitForLineAsync(
                line => line == "Waiting for deployment \"web\" rollout to finish: 0 of 2 updated replicas are available...", TimeSpan.FromSeconds(20));
            cluster.Kubelet.Ready = _ => true;

            await rollout.WaitForLineAsync(line => line == "deployment \"web\" successfully rolled out", TimeSpan.FromSeconds(20));
            Assert.Equal(0, await rollout.ExitCodeAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task DeletePod_TheDeploymentReplacesIt()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        var home = Directory.CreateTempSubdirectory("dsop-rollout-").FullName;
        try
        {
            var kubeconfig = Path.Combine(home, "kubeconfig");
            cluster.Server.WriteKubeconfig(kubeconfig);
            var kubectl = new Kubectl.Kubectl(kubeconfig, home);
            Assert.Equal(0, (await kubectl.RunWithInputAsync(Manifest, "apply", "-f", "-")).ExitCode);
            await cluster.WaitForRolloutAsync("web");
            var victim = (await cluster.PodsAsync("app=web"))[0].Metadata.Name;

            var deleted = await kubectl.RunAsync("delete", "pod", victim);

            Assert.True(deleted.ExitCode == 0, deleted.ToString());
            var pods = await Conformance.Eventually.ReadAsync(
                () => cluster.PodsAsync("app=web"), list => list.Count == 2 && list.All(p => p.Metadata.Name != victim), "a replacement pod");
            Assert.All(pods, p => Assert.StartsWith("web-", p.Metadata.Name, StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
