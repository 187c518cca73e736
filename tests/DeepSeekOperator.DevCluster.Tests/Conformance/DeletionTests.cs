using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>Deletion held by finalizers and grace periods, and namespace termination.</summary>
public sealed class DeletionTests : IAsyncLifetime
{
    private const string Hold = "example.com/hold";
    private RunningApiServer running = null!;

    private Kubernetes Client => running.Client;

    public async Task InitializeAsync() => running = await RunningApiServer.StartAsync();

    public async Task DisposeAsync() => await running.DisposeAsync();

    [Fact]
    public async Task Delete_WithAFinalizer_MarksTheObjectUntilTheFinalizerIsRemoved()
    {
        var held = Objects.ConfigMap("settings");
        held.Metadata.Finalizers = [Hold];
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(held, "default");
        await using var watch = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync(
                "default", fieldSelector: "metadata.name=settings", resourceVersion: created.Metadata.ResourceVersion, onError: onError, cancellationToken: token));

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("settings", "default");
        var marked = await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default");
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal(0, marked.Metadata.DeletionGracePeriodSeconds);
        Assert.Equal([Hold], marked.Metadata.Finalizers);

        await Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""[{"op":"remove","path":"/metadata/finalizers"}]""", V1Patch.PatchType.JsonPatch), "settings", "default");
        var events = await watch.TakeAsync(2);

        Assert.Equal([WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.NotNull(events[0].Object.Metadata.DeletionTimestamp);
        await Eventually.GoneAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default"), "the finalized config map");
    }

    [Fact]
    public async Task Delete_HeldByAFinalizer_AnswersOkWithTheMarkedObject()
    {
        var held = Objects.ConfigMap("settings");
        held.Metadata.Finalizers = [Hold];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(held, "default");

        using var response = await Client.CoreV1.DeleteNamespacedConfigMapWithHttpMessagesAsync("settings", "default");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.Response.StatusCode);
        Assert.Equal("ConfigMap", response.Body.Kind);
        Assert.NotNull((await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default")).Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task Delete_HeldByAFinalizerWithOrphanDependentsFalse_AnswersAccepted()
    {
        var held = Objects.ConfigMap("settings");
        held.Metadata.Finalizers = [Hold];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(held, "default");

        using var response = await Client.CoreV1.DeleteNamespacedConfigMapWithHttpMessagesAsync(
            "settings", "default", new V1DeleteOptions { OrphanDependents = false });

        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.Response.StatusCode);
    }

    [Fact]
    public async Task Update_AddingAFinalizerToAnObjectBeingDeleted_IsForbidden()
    {
        var held = Objects.ConfigMap("settings");
        held.Metadata.Finalizers = [Hold];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(held, "default");
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("settings", "default");

        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"metadata":{"finalizers":["example.com/hold","example.com/late"]}}""", V1Patch.PatchType.MergePatch), "settings", "default"));

        Assert.Equal(422, status.Code);
        var cause = Assert.Single(status.Details.Causes);
        Assert.Equal("metadata.finalizers", cause.Field);
        Assert.Equal("FieldValueForbidden", cause.Reason);
    }

    [Fact]
    public async Task Delete_OfAPodOnANode_IsGracefulUntilDeletedAgainWithGracePeriodZero()
    {
        await Client.CoreV1.CreateNamespacedPodAsync(Objects.Pod("worker", nodeName: "node-a"), "default");

        await Client.CoreV1.DeleteNamespacedPodAsync("worker", "default");
        var terminating = await Client.CoreV1.ReadNamespacedPodAsync("worker", "default");
        Assert.Equal(30, terminating.Metadata.DeletionGracePeriodSeconds);
        Assert.InRange(terminating.Metadata.DeletionTimestamp!.Value, DateTime.UtcNow.AddSeconds(25), DateTime.UtcNow.AddSeconds(31));

        await Client.CoreV1.DeleteNamespacedPodAsync("worker", "default", gracePeriodSeconds: 0);

        await Eventually.GoneAsync(() => Client.CoreV1.ReadNamespacedPodAsync("worker", "default"), "the force-deleted pod");
    }

    [Fact]
    public async Task Delete_OfAPodWithAGracePeriod_UsesTheRequestedPeriod()
    {
        var pod = Objects.Pod("worker", nodeName: "node-a");
        pod.Spec.TerminationGracePeriodSeconds = 120;
        await Client.CoreV1.CreateNamespacedPodAsync(pod, "default");

        await Client.CoreV1.DeleteNamespacedPodAsync("worker", "default", gracePeriodSeconds: 5);

        var terminating = await Client.CoreV1.ReadNamespacedPodAsync("worker", "default");
        Assert.Equal(5, terminating.Metadata.DeletionGracePeriodSeconds);
    }

    [Fact]
    public async Task Delete_OfAnUnscheduledPod_IsImmediate()
    {
        await Client.CoreV1.CreateNamespacedPodAsync(Objects.Pod("pending"), "default");

        await Client.CoreV1.DeleteNamespacedPodAsync("pending", "default");

        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.ReadNamespacedPodAsync("pending", "default"));
        Assert.Equal(404, status.Code);
    }

    [Fact]
    public async Task Delete_WithAStaleResourceVersionPrecondition_Conflicts()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
        created.Data["key"] = "changed";
        await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "settings", "default");

        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.DeleteNamespacedConfigMapAsync(
            "settings", "default", new V1DeleteOptions { Preconditions = new V1Preconditions { ResourceVersion = created.Metadata.ResourceVersion } }));

        Assert.Equal("Conflict", status.Reason);
        Assert.NotNull(await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default"));
    }

    [Fact]
    public async Task Delete_OfANamespace_TerminatesItRefusesNewContentDeletesItsObjectsThenRemovesIt()
    {
        var ns = await Objects.NamespaceAsync(Client, "doomed");
        var held = Objects.ConfigMap("held");
        held.Metadata.Finalizers = [Hold];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(held, ns);
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "token" } }, ns);

        await Client.CoreV1.DeleteNamespaceAsync(ns);

        var terminating = await Client.CoreV1.ReadNamespaceAsync(ns);
        Assert.Equal("Terminating", terminating.Status.Phase);
        Assert.NotNull(terminating.Metadata.DeletionTimestamp);
        var refused = await Refusal.StatusOfAsync(() => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("late"), ns));
        Assert.Equal(403, refused.Code);
        Assert.Equal("Forbidden", refused.Reason);
        Assert.Contains($"unable to create new content in namespace {ns} because it is being terminated", refused.Message, StringComparison.Ordinal);
        await Eventually.GoneAsync(() => Client.CoreV1.ReadNamespacedSecretAsync("token", ns), "the secret of the terminating namespace");
        var marked = await Client.CoreV1.ReadNamespacedConfigMapAsync("held", ns);
        Assert.NotNull(marked.Metadata.DeletionTimestamp);
        Assert.Equal("Terminating", (await Client.CoreV1.ReadNamespaceAsync(ns)).Status.Phase);

        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "held", ns);

        await Eventually.GoneAsync(() => Client.CoreV1.ReadNamespaceAsync(ns), "the emptied namespace");
    }
}
