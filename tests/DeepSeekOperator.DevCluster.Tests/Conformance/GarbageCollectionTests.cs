using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>The garbage collector: background, foreground and orphan propagation through ownerReferences.</summary>
public sealed class GarbageCollectionTests : IAsyncLifetime
{
    private const string Hold = "example.com/hold";
    private RunningApiServer running = null!;

    private Kubernetes Client => running.Client;

    public async Task InitializeAsync() => running = await RunningApiServer.StartAsync();

    public async Task DisposeAsync() => await running.DisposeAsync();

    [Fact]
    public async Task Delete_InBackground_RemovesTheOwnerAtOnceAndItsDependentsAfter()
    {
        var owner = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("owner"), "default");
        await CreateDependentAsync("dependent-1", owner);
        var last = await CreateDependentAsync("dependent-2", owner);
        await using var watch = WatchFrom(last.Metadata.ResourceVersion);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", "default", propagationPolicy: "Background");
        var events = await watch.TakeAsync(3);

        Assert.All(events, e => Assert.Equal(WatchEventType.Deleted, e.Type));
        Assert.Equal("owner", events[0].Object.Metadata.Name);
        Assert.Equal(["dependent-1", "dependent-2"], events.Skip(1).Select(e => e.Object.Metadata.Name).Order());
    }

    [Fact]
    public async Task Delete_WithoutAPolicy_CollectsDependentsInTheBackground()
    {
        var owner = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("owner"), "default");
        await CreateDependentAsync("dependent", owner);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", "default");

        await Eventually.GoneAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("dependent", "default"), "the dependent of the deleted owner");
    }

    [Fact]
    public async Task Delete_InForeground_KeepsTheOwnerUntilItsBlockingDependentsAreGone()
    {
        var owner = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("owner"), "default");
        await CreateDependentAsync("dependent-free", owner, blockOwnerDeletion: true);
        var last = await CreateDependentAsync("dependent-held", owner, blockOwnerDeletion: true, finalizer: Hold);
        await using var watch = WatchFrom(last.Metadata.ResourceVersion);

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", "default", propagationPolicy: "Foreground");

        await Eventually.GoneAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("dependent-free", "default"), "the unheld dependent");
        var waiting = await Client.CoreV1.ReadNamespacedConfigMapAsync("owner", "default");
        Assert.NotNull(waiting.Metadata.DeletionTimestamp);
        Assert.Contains("foregroundDeletion", waiting.Metadata.Finalizers);
        var held = await Client.CoreV1.ReadNamespacedConfigMapAsync("dependent-held", "default");
        Assert.NotNull(held.Metadata.DeletionTimestamp);

        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"metadata":{"finalizers":null}}""", V1Patch.PatchType.MergePatch), "dependent-held", "default");
        var events = await watch.TakeUntilAsync(e => e is { Type: WatchEventType.Deleted, Object.Metadata.Name: "owner" });

        var deletions = events.Where(e => e.Type == WatchEventType.Deleted).Select(e => e.Object.Metadata.Name).ToList();
        Assert.Equal(3, deletions.Count);
        Assert.Equal("owner", deletions[^1]);
        Assert.Equal(["dependent-free", "dependent-held"], deletions.Take(2).Order());
    }

    [Fact]
    public async Task Delete_Orphaning_KeepsTheDependentsAndRemovesTheirOwnerReference()
    {
        var owner = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("owner"), "default");
        var other = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("other-owner"), "default");
        var dependent = Objects.ConfigMap("dependent");
        dependent.Metadata.OwnerReferences = [Objects.OwnerReference(owner), Objects.OwnerReference(other)];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(dependent, "default");

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("owner", "default", propagationPolicy: "Orphan");

        await Eventually.GoneAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("owner", "default"), "the orphaning owner");
        var orphan = await Client.CoreV1.ReadNamespacedConfigMapAsync("dependent", "default");
        Assert.Equal(["other-owner"], orphan.Metadata.OwnerReferences.Select(r => r.Name));
        Assert.Null(orphan.Metadata.DeletionTimestamp);
    }

    [Fact]
    public async Task Delete_OfOneOfTwoOwners_KeepsTheDependentWithTheOtherReference()
    {
        var first = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("first"), "default");
        var second = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("second"), "default");
        var dependent = Objects.ConfigMap("dependent");
        dependent.Metadata.OwnerReferences = [Objects.OwnerReference(first), Objects.OwnerReference(second)];
        await Client.CoreV1.CreateNamespacedConfigMapAsync(dependent, "default");

        await Client.CoreV1.DeleteNamespacedConfigMapAsync("first", "default");

        var kept = await Eventually.ReadAsync(
            () => Client.CoreV1.ReadNamespacedConfigMapAsync("dependent", "default"),
            d => d.Metadata.OwnerReferences.Count == 1,
            "dropping the reference to the deleted owner");
        Assert.Equal("second", kept.Metadata.OwnerReferences[0].Name);
        Assert.Null(kept.Metadata.DeletionTimestamp);
    }

    private WatchEvents<V1ConfigMap> WatchFrom(string resourceVersion) => WatchEvents<V1ConfigMap>.Start((onError, token) =>
        Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: resourceVersion, onError: onError, cancellationToken: token));

    private Task<V1ConfigMap> CreateDependentAsync(string name, V1ConfigMap owner, bool blockOwnerDeletion = false, string? finalizer = null)
    {
        var dependent = Objects.ConfigMap(name);
        dependent.Metadata.OwnerReferences = [Objects.OwnerReference(owner, blockOwnerDeletion)];
        dependent.Metadata.Finalizers = finalizer is null ? null : [finalizer];
        return Client.CoreV1.CreateNamespacedConfigMapAsync(dependent, "default");
    }
}
