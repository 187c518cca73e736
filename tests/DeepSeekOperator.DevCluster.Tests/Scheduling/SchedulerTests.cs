using DeepSeekOperator.DevCluster.Internal.Scheduling;
using DeepSeekOperator.DevCluster.Tests.Conformance;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Scheduling;

public sealed class SchedulerTests
{
    private static readonly Dictionary<string, string> OneGpu = new() { ["nvidia.com/gpu"] = "1" };

    [Fact]
    public async Task GpuPodOnNodeWithoutGpus_StaysPendingWithFailedScheduling_ThenScheduledWhenAGpuNodeJoins()
    {
        await using var cluster = await SchedulingCluster.StartAsync(SchedulingCluster.Node("dev-node-1"));
        await cluster.CreateAsync(SchedulingCluster.Pod("trainer", OneGpu));

        const string Expected = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
        Assert.Equal(Expected, await cluster.UnschedulableAsync("trainer"));
        var failed = Assert.Single(await cluster.EventsAsync("trainer"));
        Assert.Equal(("Warning", "FailedScheduling", Expected, "default-scheduler"), (failed.Type, failed.Reason, failed.Message, failed.Source.Component));
        Assert.Equal("Pod", failed.InvolvedObject.Kind);

        cluster.Join(SchedulingCluster.Node("gpu-node-1", gpus: 2));

        var bound = await cluster.BoundAsync("trainer");
        Assert.Equal("gpu-node-1", bound.Spec.NodeName);
        var scheduled = Assert.Single(bound.Status.Conditions, c => c.Type == "PodScheduled");
        Assert.Equal(("True", null, null), (scheduled.Status, scheduled.Reason, scheduled.Message));
        await Eventually.ReadAsync(
            () => cluster.EventsAsync("trainer"),
            events => events.Any(e => e is { Type: "Normal", Reason: "Scheduled", Message: "Successfully assigned default/trainer to gpu-node-1" }),
            "the Scheduled event");
    }

    [Fact]
    public async Task RetriedSchedulingFailure_CountsOnTheSameEvent()
    {
        await using var cluster = await SchedulingCluster.StartAsync(SchedulingCluster.Node("dev-node-1"));
        await cluster.CreateAsync(SchedulingCluster.Pod("trainer", OneGpu));

        var events = await Eventually.ReadAsync(() => cluster.EventsAsync("trainer"), e => e.Any(x => x.Count >= 2), "a retried scheduling attempt");

        var failed = Assert.Single(events);
        Assert.Equal("FailedScheduling", failed.Reason);
        Assert.True(failed.LastTimestamp >= failed.FirstTimestamp);
    }

    [Fact]
    public async Task DeletingThePodThatTakesTheCpu_LetsThePendingPodSchedule()
    {
        await using var cluster = await SchedulingCluster.StartAsync(SchedulingCluster.Node("dev-node-1", cpu: "2"));
        await cluster.CreateAsync(SchedulingCluster.Pod("big", new Dictionary<string, string> { ["cpu"] = "1500m" }));
        Assert.Equal("dev-node-1", (await cluster.BoundAsync("big")).Spec.NodeName);

        await cluster.CreateAsync(SchedulingCluster.Pod("waiting", new Dictionary<string, string> { ["cpu"] = "1" }));
        Assert.Equal(
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
            await cluster.UnschedulableAsync("waiting"));

        await cluster.Client.CoreV1.DeleteNamespacedPodAsync("big", "default", gracePeriodSeconds: 0);

        Assert.Equal("dev-node-1", (await cluster.BoundAsync("waiting")).Spec.NodeName);
    }

    [Fact]
    public async Task FinishedPods_FreeTheirRequests()
    {
        await using var cluster = await SchedulingCluster.StartAsync(SchedulingCluster.Node("dev-node-1", memory: "1Gi"));
        await cluster.CreateAsync(SchedulingCluster.Pod("job", new Dictionary<string, string> { ["memory"] = "768Mi" }));
        var job = await cluster.BoundAsync("job");
        await cluster.CreateAsync(SchedulingCluster.Pod("next", new Dictionary<string, string> { ["memory"] = "512Mi" }));
        Assert.StartsWith("0/1 nodes are available: 1 Insufficient memory.", await cluster.UnschedulableAsync("next"), StringComparison.Ordinal);

        job.Status.Phase = "Succeeded";
        await cluster.Client.CoreV1.ReplaceNamespacedPodStatusAsync(job, "job", "default");

        Assert.Equal("dev-node-1", (await cluster.BoundAsync("next")).Spec.NodeName);
    }

    [Fact]
    public async Task CpuAndMemoryRequests_PlacePodsOnTheNodesWithRoom()
    {
        await using var cluster = await SchedulingCluster.StartAsync(
            SchedulingCluster.Node("small", cpu: "2", memory: "4Gi"),
            SchedulingCluster.Node("large", cpu: "4", memory: "8Gi"));

        await cluster.CreateAsync(SchedulingCluster.Pod("three-cpus", new Dictionary<string, string> { ["cpu"] = "3" }));
        Assert.Equal("large", (await cluster.BoundAsync("three-cpus")).Spec.NodeName);
        await cluster.CreateAsync(SchedulingCluster.Pod("one-and-a-half-cpus", new Dictionary<string, string> { ["cpu"] = "1500m" }));
        Assert.Equal("small", (await cluster.BoundAsync("one-and-a-half-cpus")).Spec.NodeName);
        await cluster.CreateAsync(SchedulingCluster.Pod("five-gib", new Dictionary<string, string> { ["memory"] = "5Gi" }));
        Assert.Equal("large", (await cluster.BoundAsync("five-gib")).Spec.NodeName);

        await cluster.CreateAsync(SchedulingCluster.Pod("too-much", new Dictionary<string, string> { ["cpu"] = "1", ["memory"] = "4Gi" }));

        Assert.Equal(
            "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
            await cluster.UnschedulableAsync("too-much"));
    }

    [Fact]
    public async Task EmptyNodes_TakePodsWithoutRequestsOnTheLeastAllocatedFirst()
    {
        await using var cluster = await SchedulingCluster.StartAsync(SchedulingCluster.Node("node-a"), SchedulingCluster.Node("node-b"));

        var placed = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            await cluster.CreateAsync(SchedulingCluster.Pod($"web-{i}"));
            placed.Add((await cluster.BoundAsync($"web-{i}")).Spec.NodeName);
        }

        Assert.Equal(["node-a", "node-b", "node-a", "node-b"], placed);
    }

    [Fact]
    public async Task NodeSelectorAffinityAndTaints_SteerPodsToTheNodesThatAcceptThem()
    {
        var gpuNode = SchedulingCluster.Node("gpu-node") with
        {
            Labels = new Dictionary<string, string> { ["node.kubernetes.io/instance-type"] = "gpu-large" },
            Taints = [new NodeTaint("nvidia.com/gpu", "present", "NoSchedule")],
        };
        await using var cluster = await SchedulingCluster.StartAsync(SchedulingCluster.Node("cpu-node"), gpuNode);
        var gpuSelector = new Dictionary<string, string> { ["node.kubernetes.io/instance-type"] = "gpu-large" };
        var tolerateGpu = new V1Toleration { Key = "nvidia.com/gpu", OperatorProperty = "Exists", Effect = "NoSchedule" };

        var intolerant = SchedulingCluster.Pod("intolerant");
        intolerant.Spec.NodeSelector = gpuSelector;
        await cluster.CreateAsync(intolerant);
        var tolerant = SchedulingCluster.Pod("tolerant");
        tolerant.Spec.NodeSelector = gpuSelector;
        tolerant.Spec.Tolerations = [tolerateGpu];
        await cluster.CreateAsync(tolerant);
        await cluster.CreateAsync(SchedulingCluster.Pod("plain"));
        var byAffinity = SchedulingCluster.Pod("by-affinity");
        byAffinity.Spec.Tolerations = [tolerateGpu];
        byAffinity.Spec.Affinity = RequiredNodeAffinity("node.kubernetes.io/instance-type", "In", "gpu-large", "gpu-small");
        await cluster.CreateAsync(byAffinity);
        var awayByAffinity = SchedulingCluster.Pod("away-by-affinity");
        awayByAffinity.Spec.Tolerations = [tolerateGpu];
        awayByAffinity.Spec.Affinity = RequiredNodeAffinity("node.kubernetes.io/instance-type", "DoesNotExist");
        await cluster.CreateAsync(awayByAffinity);

        Assert.Equal(
            "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {nvidia.com/gpu: present}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
            await cluster.UnschedulableAsync("intolerant"));
        Assert.Equal("gpu-node", (await cluster.BoundAsync("tolerant")).Spec.NodeName);
        Assert.Equal("cpu-node", (await cluster.BoundAsync("plain")).Spec.NodeName);
        Assert.Equal("gpu-node", (await cluster.BoundAsync("by-affinity")).Spec.NodeName);
        Assert.Equal("cpu-node", (await cluster.BoundAsync("away-by-affinity")).Spec.NodeName);
    }

    [Fact]
    public async Task CordonedNode_TakesNoPodsUntilUncordoned()
    {
        await using var cluster = await SchedulingCluster.StartAsync(SchedulingCluster.Node("dev-node-1"));
        await cluster.Client.CoreV1.PatchNodeAsync(new V1Patch("""{"spec":{"unschedulable":true}}""", V1Patch.PatchType.MergePatch), "dev-node-1");

        await cluster.CreateAsync(SchedulingCluster.Pod("web"));
        Assert.Equal(
            "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
            await cluster.UnschedulableAsync("web"));

        await cluster.Client.CoreV1.PatchNodeAsync(new V1Patch("""{"spec":{"unschedulable":null}}""", V1Patch.PatchType.MergePatch), "dev-node-1");

        Assert.Equal("dev-node-1", (await cluster.BoundAsync("web")).Spec.NodeName);
    }

    [Fact]
    public async Task PodOfAnotherScheduler_IsLeftAlone()
    {
        await using var cluster = await SchedulingCluster.StartAsync(SchedulingCluster.Node("dev-node-1"));
        var foreign = SchedulingCluster.Pod("foreign");
        foreign.Spec.SchedulerName = "my-scheduler";
        await cluster.CreateAsync(foreign);
        await cluster.CreateAsync(SchedulingCluster.Pod("ours"));

        await cluster.BoundAsync("ours");

        var read = await cluster.Client.CoreV1.ReadNamespacedPodAsync("foreign", "default");
        Assert.Null(read.Spec.NodeName);
        Assert.Null(read.Status.Conditions);
        Assert.Empty(await cluster.EventsAsync("foreign"));
    }

    private static V1Affinity RequiredNodeAffinity(string key, string op, params string[] values) => new()
    {
        NodeAffinity = new V1NodeAffinity
        {
            RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
            {
                NodeSelectorTerms = [new V1NodeSelectorTerm { MatchExpressions = [new V1NodeSelectorRequirement { Key = key, OperatorProperty = op, Values = values.Length == 0 ? null : values }] }],
            },
        },
    };
}
