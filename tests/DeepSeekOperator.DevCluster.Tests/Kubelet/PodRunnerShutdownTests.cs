using System.Diagnostics;
using k8s;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

/// <summary>No pod process outlives the dev cluster: not when it stops, not when it is killed.</summary>
public sealed class PodRunnerShutdownTests
{
    [Fact]
    public async Task StoppingTheDevCluster_LeavesNoPodProcessBehind()
    {
        var cluster = await PodRunnerCluster.StartAsync();
        int[] pids;
        try
        {
            await cluster.CreateAsync(PodRunnerCluster.Pod("one", PodRunnerCluster.TestServer()));
            await cluster.CreateAsync(PodRunnerCluster.Pod("two", PodRunnerCluster.TestServer()));
            pids = [PodRunnerCluster.Pid(await cluster.WaitForAsync("one", PodRunnerCluster.IsReady, "Ready")),
                PodRunnerCluster.Pid(await cluster.WaitForAsync("two", PodRunnerCluster.IsReady, "Ready"))];
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        Assert.All(pids, pid => Assert.False(PodRunnerCluster.IsAlive(pid), $"process {pid} outlived the dev cluster"));
    }

    [Fact]
    public async Task KilledDevClusterProcess_TakesItsPodProcessesWithIt()
    {
        var root = Directory.CreateTempSubdirectory("dsop-kubelet-child-").FullName;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in (string[])[typeof(DevClusterProcess).Assembly.Location, "dev-cluster", root])
        {
            start.ArgumentList.Add(arg);
        }

        using var child = Process.Start(start)!;
        try
        {
            var address = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            using var client = new Kubernetes(new KubernetesClientConfiguration { Host = address });
            await client.CoreV1.CreateNamespacedPodAsync(PodRunnerCluster.Pod("orphan", PodRunnerCluster.TestServer()), "default");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            int pid;
            while (true)
            {
                var pod = await client.CoreV1.ReadNamespacedPodAsync("orphan", "default");
                if (PodRunnerCluster.IsReady(pod))
                {
                    pid = PodRunnerCluster.Pid(pod);
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, "the pod never got Ready");
                await Task.Delay(50);
            }

            child.Kill();
            await child.WaitForExitAsync();

            await PodRunnerCluster.WaitForExitAsync(pid);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }

            Directory.Delete(root, recursive: true);
        }
    }
}
