using DeepSeekOperator.DevCluster.Internal.Storage;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Workloads;

public sealed class StatefulSetControllerTests
{
    private static V1StatefulSet StatefulSet(string name, int replicas, string policy = "OrderedReady") => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1StatefulSetSpec
        {
            Replicas = replicas,
            ServiceName = name,
            PodManagementPolicy = policy,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "registry.local/db:1" }] },
            },
            VolumeClaimTemplates =
            [
                new V1PersistentVolumeClaim
                {
                    Metadata = new V1ObjectMeta { Name = "data", Labels = new Dictionary<string, string> { ["tier"] = "storage" } },
                    Spec = new V1PersistentVolumeClaimSpec
                    {
                        AccessModes = ["ReadWriteOnce"],
                        Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity("1Gi") } },
                    },
                },
            ],
        },
    };

    private static Task<V1StatefulSet> WaitForSetAsync(WorkloadCluster cluster, string name, Func<V1StatefulSet, bool> done, string what) =>
        Conformance.Eventually.ReadAsync(() => cluster.Client.AppsV1.ReadNamespacedStatefulSetAsync(name, "default"), done, what);

    private static bool AllReady(V1StatefulSet set) =>
        set.Status is not null && set.Status.ObservedGeneration == set.Metadata.Generation && set.Status.ReadyReplicas == set.Spec.Replicas && set.Status.Replicas == set.Spec.Replicas
        && set.Status.UpdatedReplicas == set.Spec.Replicas && set.Status.CurrentRevision == set.Status.UpdateRevision;

    [Fact]
    public async Task OrderedReady_CreatesEachPodAfterThePreviousIsReady_WithIdentityAndClaims()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        using var timeline = new PodTimeline(cluster.Server);

        await cluster.Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSet("db", 3), "default");
        var set = await WaitForSetAsync(cluster, "db", AllReady, "all three pods ready");
        await timeline.CatchUpAsync(cluster.Server.Revision);

        Assert.True(
            timeline.First("db-1", c => c.Type == StoreEventType.Added, "creation") > timeline.First("db-0", c => c.Ready, "readiness"),
            "db-1 was created before db-0 was ready");
        Assert.True(
            timeline.First("db-2", c => c.Type == StoreEventType.Added, "creation") > timeline.First("db-1", c => c.Ready, "readiness"),
            "db-2 was created before db-1 was ready");
        var revision = set.Status.UpdateRevision;
        Assert.StartsWith("db-", revision, StringComparison.Ordinal);
        Assert.Equal((3, 3, 3, 3, 3), (set.Status.Replicas, set.Status.ReadyReplicas, set.Status.CurrentReplicas, set.Status.UpdatedReplicas, set.Status.AvailableReplicas));
        Assert.Equal(0, set.Status.CollisionCount);

        var pods = (await cluster.PodsAsync("app=db")).OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(["db-0", "db-1", "db-2"], pods.Select(p => p.Metadata.Name));
        for (var i = 0; i < 3; i++)
        {
            var pod = pods[i];
            Assert.Equal((pod.Metadata.Name, i.ToString(System.Globalization.CultureInfo.InvariantCulture), revision),
                (pod.Metadata.Labels["statefulset.kubernetes.io/pod-name"], pod.Metadata.Labels["apps.kubernetes.io/pod-index"], pod.Metadata.Labels["controller-revision-hash"]));
            Assert.Equal((pod.Metadata.Name, "db"), (pod.Spec.Hostname, pod.Spec.Subdomain));
            Assert.Equal($"data-db-{i}", pod.Spec.Volumes.Single(v => v.Name == "data").PersistentVolumeClaim.ClaimName);
            var claim = await cluster.Client.CoreV1.ReadNamespacedPersistentVolumeClaimAsync($"data-db-{i}", "default");
            Assert.Equal(("storage", "db"), (claim.Metadata.Labels["tier"], claim.Metadata.Labels["app"]));
        }

        Assert.Equal(
            ["create Claim data-db-0 Pod db-0 in StatefulSet db success", "create Pod db-0 in StatefulSet db successful"],
            (await cluster.EventMessagesAsync("db", "SuccessfulCreate")).Take(2));
    }

    [Fact]
    public async Task ScaleDown_RemovesTheHighestOrdinalFirst_OneAtATime()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSet("db", 3), "default");
        await WaitForSetAsync(cluster, "db", AllReady, "all three pods ready");
        using var timeline = new PodTimeline(cluster.Server);

        await cluster.Client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch("""{"spec":{"replicas":1}}""", V1Patch.PatchType.MergePatch), "db", "default");
        var set = await WaitForSetAsync(cluster, "db", s => AllReady(s) && s.Status.Replicas == 1, "the scale down to one pod");
        await timeline.CatchUpAsync(cluster.Server.Revision);

        Assert.True(
            timeline.First("db-1", c => c.Deleting, "deletion") > timeline.First("db-2", c => c.Type == StoreEventType.Deleted, "removal"),
            "db-1 was deleted before db-2 was gone");
        Assert.Equal(["db-0"], (await cluster.PodsAsync("app=db")).Select(p => p.Metadata.Name));
        Assert.Equal((1, 1, 1), (set.Status.Replicas, set.Status.ReadyReplicas, set.Status.AvailableReplicas));
        Assert.Equal(
            ["delete Pod db-2 in StatefulSet db successful", "delete Pod db-1 in StatefulSet db successful"],
            await cluster.EventMessagesAsync("db", "SuccessfulDelete"));
    }

    [Fact]
    public async Task RollingUpdate_ReplacesPodsFromTheHighestOrdinalDown_ThenTheUpdateRevisionBecomesCurrent()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSet("db", 3), "default");
        var before = await WaitForSetAsync(cluster, "db", AllReady, "all three pods ready");
        using var timeline = new PodTimeline(cluster.Server);

        await cluster.Client.AppsV1.PatchNamespacedStatefulSetAsync(
            new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"registry.local/db:2"}]}}}}""", V1Patch.PatchType.StrategicMergePatch), "db", "default");
        var after = await WaitForSetAsync(cluster, "db", s => AllReady(s) && s.Status.UpdateRevision != before.Status.UpdateRevision, "the rolling update");
        await timeline.CatchUpAsync(cluster.Server.Revision);

        var deletions = timeline.Changes.Where(c => c.Deleting).Select(c => c.Name).Distinct().ToList();
        Assert.Equal(["db-2", "db-1", "db-0"], deletions);
        Assert.True(
            timeline.First("db-1", c => c.Deleting, "deletion") > timeline.First("db-2", c => c.Ready && c.RevisionLabel == after.Status.UpdateRevision, "readiness at the new revision"),
            "db-1 was replaced before the new db-2 was ready");
        Assert.Equal(after.Status.UpdateRevision, after.Status.CurrentRevision);
        Assert.All(await cluster.PodsAsync("app=db"), p => Assert.Equal(
            (after.Status.UpdateRevision, "registry.local/db:2"), (p.Metadata.Labels["controller-revision-hash"], p.Spec.Containers[0].Image)));
    }

    [Fact]
    public async Task Parallel_CreatesEveryPodWithoutWaitingForReadiness()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        cluster.Kubelet.Ready = _ => false;

        await cluster.Client.AppsV1.CreateNamespacedStatefulSetAsync(StatefulSet("db", 3, "Parallel"), "default");
        var set = await WaitForSetAsync(cluster, "db", s => s.Status?.Replicas == 3, "three pods created");

        Assert.Equal(0, set.Status.ReadyReplicas ?? 0);
        Assert.Equal(3, (await cluster.PodsAsync("app=db")).Count);
    }
}
