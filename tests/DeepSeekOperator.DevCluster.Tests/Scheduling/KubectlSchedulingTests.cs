using DeepSeekOperator.DevCluster.Internal.Scheduling;
using DeepSeekOperator.DevCluster.Tests.Kubectl;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.DevCluster.Tests.Scheduling;

public sealed class KubectlSchedulingTests
{
    [Fact]
    public async Task Kubectl_ShowsReadyNodes_WherePodsRun_AndWhyAGpuPodIsPending()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        var objects = cluster.Server.Objects;
        cluster.Server.RunBeside(new VirtualNodes(objects, [SchedulingCluster.Node("dev-node-1")], NullLoggerFactory.Instance).RunAsync);
        cluster.Server.RunBeside(new Scheduler(objects, NullLoggerFactory.Instance).RunAsync);
        await cluster.RunOkAsync("wait", "--for=condition=Ready", "node/dev-node-1", "--timeout=10s");

        await cluster.RunOkAsync("run", "web", "--image=example.com/web:1");
        await cluster.RunOkAsync(
            "run", "trainer", "--image=example.com/trainer:1", "--overrides",
            """{"spec":{"containers":[{"name":"trainer","image":"example.com/trainer:1","resources":{"limits":{"nvidia.com/gpu":"1"}}}]}}""");
        await cluster.RunOkAsync("wait", "--for=condition=PodScheduled", "pod/web", "--timeout=10s");
        await cluster.RunOkAsync("wait", "--for=condition=PodScheduled=false", "pod/trainer", "--timeout=10s");

        var nodes = Rows((await cluster.RunOkAsync("get", "nodes", "-o", "wide")).Output);
        Assert.Equal(["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"], nodes[0][..10]);
        Assert.Equal(["dev-node-1", "Ready", "<none>"], nodes[1][..3]);
        Assert.Equal(["v1.32.0", "127.0.0.1", "<none>"], nodes[1][4..7]);
        var pods = Rows((await cluster.RunOkAsync("get", "pods", "-o", "wide")).Output);
        Assert.Equal("NODE", pods[0][6]);
        Assert.Equal(["trainer", "Pending", "<none>"], [pods[1][0], pods[1][2], pods[1][6]]);
        Assert.Equal(["web", "dev-node-1"], [pods[2][0], pods[2][6]]);
        var described = (await cluster.RunOkAsync("describe", "pod", "trainer")).Output;
        Assert.Contains(
            "FailedScheduling  ",
            described,
            StringComparison.Ordinal);
        Assert.Contains(
            "default-scheduler  0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
            described,
            StringComparison.Ordinal);
    }

    private static List<string[]> Rows(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))];
}
