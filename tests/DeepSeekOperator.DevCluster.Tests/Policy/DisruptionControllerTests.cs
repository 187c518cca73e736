using System.Text.Json;
using DeepSeekOperator.DevCluster.Internal.Policy;
using DeepSeekOperator.DevCluster.Tests.Conformance;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.DevCluster.Tests.Policy;

public sealed class DisruptionControllerTests : IAsyncLifetime
{
    private RunningApiServer running = null!;

    private Kubernetes Client => running.Client;

    public async Task InitializeAsync()
    {
        running = await RunningApiServer.StartAsync();
        running.Server.RunBeside(new DisruptionController(running.Server.Objects, NullLoggerFactory.Instance).RunAsync);
    }

    public async Task DisposeAsync() => await running.DisposeAsync();

    [Fact]
    public async Task IntegerMinAvailable_CountsSelectedPods_AllowsDisruptionsOnceEnoughAreReady_AndTerminatingPodsAreNotHealthy()
    {
        await BudgetAsync("web", minAvailable: 2);
        await PodAsync("web-0", "web", ready: true);
        await PodAsync("web-1", "web", ready: true);
        await PodAsync("web-2", "web", ready: false);

        var status = await StatusAsync("web", s => s.ExpectedPods == 3 && s.CurrentHealthy == 2);
        Assert.Equal((2, 0, 1L), (status.DesiredHealthy, status.DisruptionsAllowed, status.ObservedGeneration));
        var condition = Assert.Single(status.Conditions);
        Assert.Equal(("DisruptionAllowed", "False", "InsufficientPods", 1L), (condition.Type, condition.Status, condition.Reason, condition.ObservedGeneration));
        Assert.Null(status.DisruptedPods);

        await SetReadyAsync("web-2", true);

        status = await StatusAsync("web", s => s.CurrentHealthy == 3);
        Assert.Equal((3, 2, 1), (status.ExpectedPods, status.DesiredHealthy, status.DisruptionsAllowed));
        Assert.Equal(("True", "SufficientPods"), (status.Conditions[0].Status, status.Conditions[0].Reason));

        await Client.CoreV1.DeleteNamespacedPodAsync("web-0", "default");
        status = await StatusAsync("web", s => s.CurrentHealthy == 2);
        Assert.Equal((3, 0), (status.ExpectedPods, status.DisruptionsAllowed));
    }

    [Fact]
    public async Task MaxUnavailable_TakesTheExpectedCountFromTheDeploymentBehindTheReplicaSet()
    {
        var replicaSet = await DeploymentWithReplicaSetAsync("api", replicas: 4);
        await BudgetAsync("api", maxUnavailable: (IntOrString)"25%");
        for (var i = 0; i < 3; i++)
        {
            await PodAsync($"api-{i}", "api", ready: true, Controller("ReplicaSet", "apps/v1", replicaSet.Metadata.Name, replicaSet.Metadata.Uid));
        }

        var status = await StatusAsync("api", s => s.CurrentHealthy == 3);
        Assert.Equal((4, 3, 0), (status.ExpectedPods, status.DesiredHealthy, status.DisruptionsAllowed));

        await Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":2}}""", V1Patch.PatchType.MergePatch), "api", "default");

        status = await StatusAsync("api", s => s.ExpectedPods == 2);
        Assert.Equal((3, 1, 2), (status.CurrentHealthy, status.DesiredHealthy, status.DisruptionsAllowed));
    }

    [Fact]
    public async Task PercentageMinAvailable_UsesTheStatefulSetsReplicas()
    {
        var statefulSet = await Client.AppsV1.CreateNamespacedStatefulSetAsync(
            new V1StatefulSet
            {
                Metadata = new V1ObjectMeta { Name = "db" },
                Spec = new V1StatefulSetSpec { Replicas = 5, ServiceName = "db", Selector = Selects("db"), Template = Template("db") },
            },
            "default");
        await BudgetAsync("db", minAvailable: (IntOrString)"50%");
        await PodAsync("db-0", "db", ready: true, Controller("StatefulSet", "apps/v1", "db", statefulSet.Metadata.Uid));
        await PodAsync("db-1", "db", ready: true, Controller("StatefulSet", "apps/v1", "db", statefulSet.Metadata.Uid));

        var status = await StatusAsync("db", s => s.CurrentHealthy == 2);

        Assert.Equal((5, 3, 0), (status.ExpectedPods, status.DesiredHealthy, status.DisruptionsAllowed));
    }

    [Fact]
    public async Task PodWhoseControllerIsMissing_FailsTheSyncSafely()
    {
        await BudgetAsync("orphan", maxUnavailable: 1);
        await PodAsync("orphan-0", "orphan", ready: true, Controller("ReplicaSet", "apps/v1", "gone", Guid.NewGuid().ToString()));

        var status = await StatusAsync("orphan", s => s.Conditions?.FirstOrDefault()?.Reason == "SyncFailed");

        Assert.Equal(0, status.DisruptionsAllowed);
        Assert.Equal("found no controllers for pod \"orphan-0\"", status.Conditions[0].Message);
        var events = await Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: "involvedObject.name=orphan");
        Assert.Contains(events.Items, e => e is { Reason: "CalculateExpectedPodCountFailed", Type: "Warning" });
    }

    [Fact]
    public async Task BudgetWithoutPods_ExpectsNoneAndRecordsNoPods()
    {
        await BudgetAsync("empty", minAvailable: 1);

        var status = await StatusAsync("empty", s => s.Conditions is { Count: 1 });

        Assert.Equal((0, 0, 1, 0), (status.ExpectedPods, status.CurrentHealthy, status.DesiredHealthy, status.DisruptionsAllowed));
        var events = await Eventually.ReadAsync(
            () => Client.CoreV1.ListNamespacedEventAsync("default", fieldSelector: "involvedObject.name=empty"),
            e => e.Items.Count > 0,
            "the NoPods event");
        Assert.Contains(events.Items, e => e is { Reason: "NoPods", Message: "No matching pods found", Type: "Normal" });
    }

    private static V1LabelSelector Selects(string app) => new() { MatchLabels = new Dictionary<string, string> { ["app"] = app } };

    private static V1PodTemplateSpec Template(string app) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = app } },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "example.com/app:1" }] },
    };

    private static V1OwnerReference Controller(string kind, string apiVersion, string name, string uid) =>
        new() { Kind = kind, ApiVersion = apiVersion, Name = name, Uid = uid, Controller = true };

    private Task<V1PodDisruptionBudget> BudgetAsync(string app, IntOrString? minAvailable = null, IntOrString? maxUnavailable = null) =>
        Client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(
            new V1PodDisruptionBudget
            {
                Metadata = new V1ObjectMeta { Name = app },
                Spec = new V1PodDisruptionBudgetSpec { Selector = Selects(app), MinAvailable = minAvailable, MaxUnavailable = maxUnavailable },
            },
            "default");

    private async Task<V1ReplicaSet> DeploymentWithReplicaSetAsync(string app, int replicas)
    {
        var deployment = await Client.AppsV1.CreateNamespacedDeploymentAsync(
            new V1Deployment { Metadata = new V1ObjectMeta { Name = app }, Spec = new V1DeploymentSpec { Replicas = replicas, Selector = Selects(app), Template = Template(app) } },
            "default");
        return await Client.AppsV1.CreateNamespacedReplicaSetAsync(
            new V1ReplicaSet
            {
                Metadata = new V1ObjectMeta { Name = app + "-5d4f8c7b9", OwnerReferences = [Controller("Deployment", "apps/v1", app, deployment.Metadata.Uid)] },
                Spec = new V1ReplicaSetSpec { Replicas = replicas, Selector = Selects(app), Template = Template(app) },
            },
            "default");
    }

    private async Task PodAsync(string name, string app, bool ready, V1OwnerReference? owner = null)
    {
        await Client.CoreV1.CreateNamespacedPodAsync(
            new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = app }, OwnerReferences = owner is null ? null : [owner] },
                Spec = new V1PodSpec { NodeName = "dev-node-1", Containers = [new V1Container { Name = "main", Image = "example.com/app:1" }] },
            },
            "default");
        await SetReadyAsync(name, ready);
    }

    private Task<V1Pod> SetReadyAsync(string name, bool ready)
    {
        var patch = new { status = new { phase = "Running", conditions = new[] { new { type = "Ready", status = ready ? "True" : "False" } } } };
        return Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(JsonSerializer.Serialize(patch), V1Patch.PatchType.MergePatch), name, "default");
    }

    private async Task<V1PodDisruptionBudgetStatus> StatusAsync(string name, Func<V1PodDisruptionBudgetStatus, bool> done)
    {
        var budget = await Eventually.ReadAsync(
            () => Client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync(name, "default"),
            b => b.Status is { } status && done(status),
            $"status of budget {name}");
        return budget.Status;
    }
}
