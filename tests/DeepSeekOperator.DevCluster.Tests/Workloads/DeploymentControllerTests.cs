using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Workloads;

public sealed class DeploymentControllerTests
{
    [Fact]
    public async Task NewDeployment_RollsOut_WithTheStatusKubeControllerManagerReports()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(WorkloadCluster.Deployment("web", 3), "default");

        var d = await cluster.WaitForRolloutAsync("web");

        var rs = Assert.Single(await cluster.ReplicaSetsAsync("app=web"));
        var hash = rs.Metadata.Labels["pod-template-hash"];
        Assert.Equal($"web-{hash}", rs.Metadata.Name);
        Assert.Matches("^[bcdfghjklmnpqrstvwxz2456789]{1,10}$", hash);
        Assert.Equal(hash, rs.Spec.Selector.MatchLabels["pod-template-hash"]);
        Assert.Equal(hash, rs.Spec.Template.Metadata.Labels["pod-template-hash"]);
        Assert.Equal("1", rs.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal("3", rs.Metadata.Annotations["deployment.kubernetes.io/desired-replicas"]);
        Assert.Equal("4", rs.Metadata.Annotations["deployment.kubernetes.io/max-replicas"]);
        var owner = Assert.Single(rs.Metadata.OwnerReferences);
        Assert.Equal(("Deployment", "web", true, true), (owner.Kind, owner.Name, owner.Controller, owner.BlockOwnerDeletion));

        var pods = await cluster.PodsAsync("app=web");
        Assert.Equal(3, pods.Count);
        Assert.All(pods, p => Assert.Matches($"^web-{hash}-[bcdfghjklmnpqrstvwxz2456789]{{5}}$", p.Metadata.Name));
        Assert.All(pods, p => Assert.Equal(hash, p.Metadata.Labels["pod-template-hash"]));
        Assert.All(pods, p => Assert.Equal(rs.Metadata.Uid, Assert.Single(p.Metadata.OwnerReferences).Uid));

        Assert.Equal("1", d.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal(d.Metadata.Generation, d.Status.ObservedGeneration);
        Assert.Equal((3, 3, 3, 3, null), (d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UnavailableReplicas));
        Assert.Equal(["Available", "Progressing"], d.Status.Conditions.Select(c => c.Type));
        var available = d.Status.Conditions[0];
        Assert.Equal(("True", "MinimumReplicasAvailable", "Deployment has minimum availability."), (available.Status, available.Reason, available.Message));
        var progressing = d.Status.Conditions[1];
        Assert.Equal(("True", "NewReplicaSetAvailable", $"ReplicaSet \"web-{hash}\" has successfully progressed."), (progressing.Status, progressing.Reason, progressing.Message));
        Assert.Equal([$"Scaled up replica set web-{hash} from 0 to 3"], await cluster.EventMessagesAsync("web", "ScalingReplicaSet"));
        Assert.Equal(3, (await cluster.EventMessagesAsync(rs.Metadata.Name, "SuccessfulCreate")).Count);
    }

    [Fact]
    public async Task RollingUpdate_NewPodNotReady_SettlesWithOneSurgedPodAndProgressingReplicaSetUpdated()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(WorkloadCluster.Deployment("web", 3), "default");
        await cluster.WaitForRolloutAsync("web");
        var oldPods = (await cluster.PodsAsync("app=web")).Select(p => p.Metadata.Name).ToHashSet();
        cluster.Kubelet.Ready = pod => oldPods.Contains(WorkloadCluster.NameOf(pod));

        await cluster.SetImageAsync("web", "registry.local/web:2");

        // 25% of 3 is a surge of 1 (rounded up) and no unavailability (rounded down): one new pod, no old one gone.
        var d = await cluster.WaitForDeploymentAsync(
            "web",
            d => d.Status.ObservedGeneration == 2 && d.Status.Replicas == 4 && d.Status.UnavailableReplicas == 1
                && d.Status.Conditions.Any(c => c.Reason == "ReplicaSetUpdated"),
            "the rollout stalled on a pod that is not ready");
        var newRs = (await cluster.ReplicaSetsAsync("app=web"))[1];
        Assert.Equal((4, 1, 3, 3, 1), (d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UnavailableReplicas));
        Assert.Equal("2", d.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        var available = d.Status.Conditions.Single(c => c.Type == "Available");
        Assert.Equal(("True", "MinimumReplicasAvailable"), (available.Status, available.Reason));
        var progressing = d.Status.Conditions.Single(c => c.Type == "Progressing");
        Assert.Equal(("True", "ReplicaSetUpdated", $"ReplicaSet \"{newRs.Metadata.Name}\" is progressing."), (progressing.Status, progressing.Reason, progressing.Message));
        Assert.Equal(1, newRs.Spec.Replicas);
        Assert.Equal(4, (await cluster.PodsAsync("app=web")).Count);

        cluster.Kubelet.Ready = _ => true;
        d = await cluster.WaitForRolloutAsync("web");
        Assert.Equal((3, 3, 3, 3), (d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas));
    }

    [Fact]
    public async Task RollingUpdate_StaysWithinSurgeAndUnavailability_AndKeepsOnlyTheHistoryLimit()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        var deployment = WorkloadCluster.Deployment("web", 3);
        deployment.Spec.RevisionHistoryLimit = 1;
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default");
        await cluster.WaitForRolloutAsync("web");
        var first = Assert.Single(await cluster.ReplicaSetsAsync("app=web")).Metadata.Name;
        using var monitor = new RolloutMonitor(cluster.Server, "web");

        await cluster.SetImageAsync("web", "registry.local/web:2");
        await cluster.WaitForRolloutAsync("web");
        var second = (await cluster.ReplicaSetsAsync("app=web")).Single(rs => rs.Metadata.Name != first).Metadata.Name;
        await cluster.SetImageAsync("web", "registry.local/web:3");
        var d = await cluster.WaitForRolloutAsync("web");
        await monitor.CatchUpAsync(cluster.Server.Revision);

        Assert.True(monitor.MaxRequested <= 4, $"the ReplicaSets asked for {monitor.MaxRequested} pods, more than replicas + maxSurge = 4: {string.Join("; ", await cluster.EventMessagesAsync("web", "ScalingReplicaSet"))} {monitor.Trace}");
        Assert.True(monitor.MinReady >= 3, $"only {monitor.MinReady} pods were ready, fewer than replicas - maxUnavailable = 3");
        var replicaSets = await Conformance.Eventually.ReadAsync(
            () => cluster.ReplicaSetsAsync("app=web"), list => list.Count == 2, "the oldest ReplicaSet trimmed by revisionHistoryLimit");
        Assert.Equal(second, replicaSets[0].Metadata.Name);
        Assert.Equal((0, "2"), (replicaSets[0].Spec.Replicas, replicaSets[0].Metadata.Annotations["deployment.kubernetes.io/revision"]));
        var third = replicaSets[1].Metadata.Name;
        Assert.Equal((3, "3"), (replicaSets[1].Spec.Replicas, replicaSets[1].Metadata.Annotations["deployment.kubernetes.io/revision"]));
        Assert.Equal("3", d.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        Assert.Equal(3, d.Metadata.Generation);
        Assert.Equal(
            [
                $"Scaled up replica set {first} from 0 to 3",
                $"Scaled up replica set {second} from 0 to 1",
                $"Scaled down replica set {first} from 3 to 2",
                $"Scaled up replica set {second} from 1 to 2",
                $"Scaled down replica set {first} from 2 to 1",
                $"Scaled up replica set {second} from 2 to 3",
                $"Scaled down replica set {first} from 1 to 0",
                $"Scaled up replica set {third} from 0 to 1",
                $"Scaled down replica set {second} from 3 to 2",
                $"Scaled up replica set {third} from 1 to 2",
                $"Scaled down replica set {second} from 2 to 1",
                $"Scaled up replica set {third} from 2 to 3",
                $"Scaled down replica set {second} from 1 to 0",
            ],
            await cluster.EventMessagesAsync("web", "ScalingReplicaSet"));
        Assert.All(await cluster.PodsAsync("app=web"), p => Assert.Equal(third, p.Metadata.OwnerReferences[0].Name));
    }

    [Fact]
    public async Task Scale_UpThenDown_ResizesTheReplicaSetAndDeletesNotReadyPodsFirst()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(WorkloadCluster.Deployment("web", 3), "default");
        await cluster.WaitForRolloutAsync("web");
        var rs = Assert.Single(await cluster.ReplicaSetsAsync("app=web")).Metadata.Name;

        await cluster.ScaleAsync("web", 5);
        await cluster.WaitForRolloutAsync("web");
        var pods = await cluster.PodsAsync("app=web");
        Assert.Equal(5, pods.Count);
        var unready = pods[2].Metadata.Name;
        cluster.Kubelet.Ready = pod => WorkloadCluster.NameOf(pod) != unready;
        await cluster.WaitForDeploymentAsync("web", d => d.Status.ReadyReplicas == 4, "one pod reported not ready");

        await cluster.ScaleAsync("web", 4);
        var d = await cluster.WaitForRolloutAsync("web");

        var left = (await Conformance.Eventually.ReadAsync(() => cluster.PodsAsync("app=web"), list => list.Count == 4, "the removed pod gone"))
            .Select(p => p.Metadata.Name).ToList();
        Assert.DoesNotContain(unready, left);
        Assert.Equal((4, 4, 4), (d.Status.Replicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas));
        var replicaSet = Assert.Single(await cluster.ReplicaSetsAsync("app=web"));
        Assert.Equal(("4", "5"), (replicaSet.Metadata.Annotations["deployment.kubernetes.io/desired-replicas"], replicaSet.Metadata.Annotations["deployment.kubernetes.io/max-replicas"]));
        Assert.Equal(
            [$"Scaled up replica set {rs} from 0 to 3", $"Scaled up replica set {rs} from 3 to 5", $"Scaled down replica set {rs} from 5 to 4"],
            await cluster.EventMessagesAsync("web", "ScalingReplicaSet"));
        Assert.Equal([$"Deleted pod: {unready}"], await cluster.EventMessagesAsync(rs, "SuccessfulDelete"));
    }

    [Fact]
    public async Task Recreate_OldPodsAreGoneBeforeNewOnesAreCreated()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        var deployment = WorkloadCluster.Deployment("web", 2);
        deployment.Spec.Strategy = new V1DeploymentStrategy { Type = "Recreate" };
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default");
        await cluster.WaitForRolloutAsync("web");
        var first = Assert.Single(await cluster.ReplicaSetsAsync("app=web")).Metadata.Name;
        using var monitor = new RolloutMonitor(cluster.Server, "web");

        await cluster.SetImageAsync("web", "registry.local/web:2");
        var d = await cluster.WaitForRolloutAsync("web");
        await monitor.CatchUpAsync(cluster.Server.Revision);

        Assert.Equal(1, monitor.MaxHashesRunning);
        var second = (await cluster.ReplicaSetsAsync("app=web"))[1].Metadata.Name;
        Assert.Equal(
            [$"Scaled up replica set {first} from 0 to 2", $"Scaled down replica set {first} from 2 to 0", $"Scaled up replica set {second} from 0 to 2"],
            await cluster.EventMessagesAsync("web", "ScalingReplicaSet"));
        Assert.Equal((2, 2, 2), (d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas));
    }

    [Fact]
    public async Task Paused_TemplateChangeWaitsButScalingApplies_ThenResumeRollsOut()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(WorkloadCluster.Deployment("web", 2), "default");
        await cluster.WaitForRolloutAsync("web");
        await cluster.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"paused":true}}""", V1Patch.PatchType.MergePatch), "web", "default");

        await cluster.SetImageAsync("web", "registry.local/web:2");
        await cluster.ScaleAsync("web", 3);
        var d = await cluster.WaitForDeploymentAsync("web", d => d.Status.ObservedGeneration == 4 && d.Status.AvailableReplicas == 3, "the paused deployment scaled");

        Assert.Single(await cluster.ReplicaSetsAsync("app=web"));
        Assert.Equal(0, d.Status.UpdatedReplicas ?? 0);
        var progressing = d.Status.Conditions.Single(c => c.Type == "Progressing");
        Assert.Equal(("Unknown", "DeploymentPaused", "Deployment is paused"), (progressing.Status, progressing.Reason, progressing.Message));

        await cluster.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch("""{"spec":{"paused":false}}""", V1Patch.PatchType.MergePatch), "web", "default");
        d = await cluster.WaitForRolloutAsync("web");
        Assert.Equal((3, 3), (d.Status.UpdatedReplicas, d.Status.AvailableReplicas));
        Assert.Equal("registry.local/web:2", Assert.Single(await cluster.ReplicaSetsAsync("app=web"), rs => rs.Spec.Replicas == 3).Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public async Task RollingUpdate_WithoutSurge_TakesOnePodDownAtATimeAndNeverAsksForMore()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        var deployment = WorkloadCluster.Deployment("web", 4);
        deployment.Spec.Strategy = new V1DeploymentStrategy
        {
            Type = "RollingUpdate",
            RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = "0%", MaxUnavailable = 1 },
        };
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default");
        await cluster.WaitForRolloutAsync("web");
        var first = Assert.Single(await cluster.ReplicaSetsAsync("app=web")).Metadata.Name;
        using var monitor = new RolloutMonitor(cluster.Server, "web");

        await cluster.SetImageAsync("web", "registry.local/web:2");
        var d = await cluster.WaitForRolloutAsync("web");
        await monitor.CatchUpAsync(cluster.Server.Revision);

        Assert.True(monitor.MaxRequested <= 4, $"the ReplicaSets asked for {monitor.MaxRequested} pods, more than replicas + maxSurge = 4");
        Assert.True(monitor.MinReady >= 3, $"only {monitor.MinReady} pods were ready, fewer than replicas - maxUnavailable = 3");
        var scaling = await cluster.EventMessagesAsync("web", "ScalingReplicaSet");
        Assert.Equal($"Scaled down replica set {first} from 4 to 3", scaling[1]);
        Assert.Equal((4, 4, 4), (d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas));
        Assert.Equal(0, (await cluster.ReplicaSetsAsync("app=web"))[0].Spec.Replicas);
    }

    [Fact]
    public async Task RollingUpdate_NoProgressWithinTheDeadline_ReportsProgressDeadlineExceeded()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        var deployment = WorkloadCluster.Deployment("web", 2);
        deployment.Spec.ProgressDeadlineSeconds = 1;
        cluster.Kubelet.Ready = _ => false;

        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default");

        var d = await cluster.WaitForDeploymentAsync(
            "web", d => d.Status?.Replicas == 2 && d.Status.Conditions?.Any(c => c.Reason == "ProgressDeadlineExceeded") == true, "the progress deadline to pass");
        var rs = Assert.Single(await cluster.ReplicaSetsAsync("app=web"));
        var progressing = d.Status.Conditions.Single(c => c.Type == "Progressing");
        Assert.Equal(("False", $"ReplicaSet \"{rs.Metadata.Name}\" has timed out progressing."), (progressing.Status, progressing.Message));
        var available = d.Status.Conditions.Single(c => c.Type == "Available");
        Assert.Equal(("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."), (available.Status, available.Reason, available.Message));
        Assert.Equal((2, 2, 2), (d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.UnavailableReplicas));
    }

    [Fact]
    public async Task Delete_TakesTheReplicaSetsAndPodsWithIt()
    {
        await using var cluster = await WorkloadCluster.StartAsync();
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(WorkloadCluster.Deployment("web", 2), "default");
        await cluster.WaitForRolloutAsync("web");

        await cluster.Client.AppsV1.DeleteNamespacedDeploymentAsync("web", "default");

        await Conformance.Eventually.ReadAsync(() => cluster.ReplicaSetsAsync("app=web"), list => list.Count == 0, "the ReplicaSet collected");
        await Conformance.Eventually.ReadAsync(() => cluster.PodsAsync("app=web"), list => list.Count == 0, "the pods collected");
    }
}
