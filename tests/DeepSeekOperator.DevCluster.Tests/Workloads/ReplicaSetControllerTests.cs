using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Workloads;

public sealed class ReplicaSetControllerTests
{
    private static V1ReplicaSet ReplicaSet(string name, int replicas, int minReadySeconds = 0) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ReplicaSetSpec
        {
            Replicas = replicas,
            MinReadySeconds = minReadySeconds,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "registry.local/cache:1" }] },
            },
        },
    };

    private static Task<V1ReplicaSet> WaitForReplicaSetAsync(WorkloadCluster cluster, string name, Func<V1ReplicaSet, bool> done, string what) =>
        Conformance.Eventually.ReadAsync(() => cluster.Client.AppsV1.ReadNamespacedReplicaSetAsync(name, "default"), done, what);

    [Fact]
    public async Task PodDeleted_IsReplacedByANewPod()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedReplicaSetAsync(ReplicaSet("cache", 2), "default");
        await WaitForReplicaSetAsync(cluster, "cache", rs => rs.Status?.AvailableReplicas == 2, "two available pods");
        var victim = (await cluster.PodsAsync("app=cache"))[0].Metadata.Name;

        await cluster.Client.CoreV1.DeleteNamespacedPodAsync(victim, "default");

        var pods = await Conformance.Eventually.ReadAsync(
            () => cluster.PodsAsync("app=cache"), list => list.Count == 2 && list.All(p => p.Metadata.Name != victim), "a replacement pod");
        Assert.All(pods, p => Assert.StartsWith("cache-", p.Metadata.Name, StringComparison.Ordinal));
        var rs = await WaitForReplicaSetAsync(cluster, "cache", rs => rs.Status.ReadyReplicas == 2, "two ready pods again");
        Assert.Equal((2, 2, 2, 2, 1), (rs.Status.Replicas, rs.Status.FullyLabeledReplicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas, rs.Status.ObservedGeneration));
        Assert.Equal(3, (await cluster.EventMessagesAsync("cache", "SuccessfulCreate")).Count);
    }

    [Fact]
    public async Task OrphanMatchingTheSelector_IsAdopted_AndAPodRelabelledAway_IsReleasedAndReplaced()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.CoreV1.CreateNamespacedPodAsync(
            new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = "stray", Labels = new Dictionary<string, string> { ["app"] = "cache" } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "registry.local/cache:1" }] },
            },
            "default");

        var created = await cluster.Client.AppsV1.CreateNamespacedReplicaSetAsync(ReplicaSet("cache", 2), "default");
        await WaitForReplicaSetAsync(cluster, "cache", rs => rs.Status?.ReadyReplicas == 2, "two ready pods");

        var stray = await cluster.Client.CoreV1.ReadNamespacedPodAsync("stray", "default");
        var reference = Assert.Single(stray.Metadata.OwnerReferences);
        Assert.Equal((created.Metadata.Uid, true, true), (reference.Uid, reference.Controller, reference.BlockOwnerDeletion));
        Assert.Equal(2, (await cluster.PodsAsync("app=cache")).Count);
        Assert.Single(await cluster.EventMessagesAsync("cache", "SuccessfulCreate"));

        await cluster.Client.CoreV1.PatchNamespacedPodAsync(new V1Patch("""{"metadata":{"labels":{"app":"elsewhere"}}}""", V1Patch.PatchType.MergePatch), "stray", "default");

        var released = await Conformance.Eventually.ReadAsync(
            () => cluster.Client.CoreV1.ReadNamespacedPodAsync("stray", "default"), p => p.Metadata.OwnerReferences is null or { Count: 0 }, "the release of the relabelled pod");
        Assert.Equal("elsewhere", released.Metadata.Labels["app"]);
        await Conformance.Eventually.ReadAsync(() => cluster.PodsAsync("app=cache"), list => list.Count == 2, "a pod replacing the released one");
    }

    [Fact]
    public async Task MinReadySeconds_PodsCountAsAvailableOnlyOnceReadyThatLong()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedReplicaSetAsync(ReplicaSet("cache", 2, minReadySeconds: 2), "default");

        var ready = await WaitForReplicaSetAsync(cluster, "cache", rs => rs.Status?.ReadyReplicas == 2, "two ready pods");
        Assert.Equal(0, ready.Status.AvailableReplicas ?? 0);
        var available = await WaitForReplicaSetAsync(cluster, "cache", rs => rs.Status?.AvailableReplicas == 2, "two available pods");

        var readySince = (await cluster.PodsAsync("app=cache")).Max(p => p.Status.Conditions.Single(c => c.Type == "Ready").LastTransitionTime!.Value);
        Assert.True(DateTime.UtcNow >= readySince.AddSeconds(2), "pods counted as available before minReadySeconds passed");
        Assert.Equal(2, available.Status.ReadyReplicas);
    }
}
