using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>Watches: resuming from a resourceVersion, 410 after compaction, bookmarks and selector transitions.</summary>
public sealed class WatchTests : IAsyncLifetime
{
    private RunningApiServer running = null!;

    private Kubernetes Client => running.Client;

    public async Task InitializeAsync() => running = await RunningApiServer.StartAsync(new ApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(200) });

    public async Task DisposeAsync() => await running.DisposeAsync();

    [Fact]
    public async Task Watch_WithoutResourceVersion_StartsWithAddedForEveryExistingObject()
    {
        var ns = await Objects.NamespaceAsync(Client, "watch");
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "a" } }, ns);
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "b" } }, ns);

        await using var watch = WatchEvents<V1Secret>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedSecretAsync(ns, onError: onError, cancellationToken: token));
        var initial = await watch.TakeAsync(2);
        await Client.CoreV1.DeleteNamespacedSecretAsync("a", ns);
        var deleted = await watch.NextAsync();

        Assert.All(initial, e => Assert.Equal(WatchEventType.Added, e.Type));
        Assert.Equal(["a", "b"], initial.Select(e => e.Object.Metadata.Name).Order());
        Assert.Equal((WatchEventType.Deleted, "a"), (deleted.Type, deleted.Object.Metadata.Name));
    }

    [Fact]
    public async Task Watch_FromAResourceVersion_DeliversExactlyTheLaterEventsInOrder()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
        var from = created.Metadata.ResourceVersion;
        created.Data["key"] = "v2";
        var updated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "settings", "default");
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("other"), "default");
        await Client.CoreV1.DeleteNamespacedConfigMapAsync("settings", "default");

        await using var watch = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: from, onError: onError, cancellationToken: token));
        var events = await watch.TakeAsync(3);

        Assert.Equal(
            [(WatchEventType.Modified, "settings"), (WatchEventType.Added, "other"), (WatchEventType.Deleted, "settings")],
            events.Select(e => (e.Type, e.Object.Metadata.Name)));
        Assert.Equal("v2", events[0].Object.Data["key"]);
        Assert.Equal(updated.Metadata.ResourceVersion, events[0].Object.Metadata.ResourceVersion);
        var versions = events.Select(e => long.Parse(e.Object.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(versions.Order(), versions);
        Assert.True(versions[0] > long.Parse(from, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Watch_ResumedFromTheLastSeenResourceVersion_MissesNothingAndRepeatsNothing()
    {
        var start = await Client.CoreV1.ListNamespacedConfigMapAsync("default");
        string lastSeen;
        await using (var first = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: start.Metadata.ResourceVersion, onError: onError, cancellationToken: token)))
        {
            await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("one"), "default");
            lastSeen = (await first.NextAsync()).Object.Metadata.ResourceVersion;
        }

        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("two"), "default");
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("three"), "default");
        await using var resumed = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: lastSeen, onError: onError, cancellationToken: token));
        var events = await resumed.TakeAsync(2);

        Assert.Equal(["two", "three"], events.Select(e => e.Object.Metadata.Name));
        Assert.All(events, e => Assert.Equal(WatchEventType.Added, e.Type));
    }

    [Fact]
    public async Task Watch_FromAResourceVersionOlderThanACompaction_IsAnErrorEventWithGone()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
        created.Data["key"] = "v2";
        await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "settings", "default");
        running.Server.Compact();

        await using var watch = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: created.Metadata.ResourceVersion, onError: onError, cancellationToken: token));
        var error = Assert.IsType<KubernetesException>(await watch.ErrorAsync());

        Assert.Equal(410, error.Status.Code);
        Assert.Equal("Expired", error.Status.Reason);
        Assert.Contains("too old resource version", error.Status.Message, StringComparison.Ordinal);
        Assert.Empty(await watch.EndAsync());
    }

    [Fact]
    public async Task Watch_AllowingBookmarks_ReceivesABookmarkWithTheCurrentResourceVersionWhenQuiet()
    {
        var start = await Client.CoreV1.ListNamespacedConfigMapAsync("default");
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
        await using var watch = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync(
                "default", resourceVersion: start.Metadata.ResourceVersion, allowWatchBookmarks: true, onError: onError, cancellationToken: token));

        var events = await watch.TakeUntilAsync(e => e.Type == WatchEventType.Bookmark);

        Assert.Equal([(WatchEventType.Added, "settings"), (WatchEventType.Bookmark, null)], events.Select(e => (e.Type, (string?)e.Object.Metadata.Name)));
        var bookmark = events[^1].Object;
        Assert.Equal("ConfigMap", bookmark.Kind);
        Assert.True(
            long.Parse(bookmark.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture)
                >= long.Parse(created.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture),
            $"bookmark {bookmark.Metadata.ResourceVersion} is behind the last event {created.Metadata.ResourceVersion}");
    }

    [Fact]
    public async Task Watch_WithoutAllowingBookmarks_ReceivesNoneWhileQuiet()
    {
        var start = await Client.CoreV1.ListNamespacedConfigMapAsync("default");
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
        await using var watch = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync(
                "default", resourceVersion: start.Metadata.ResourceVersion, timeoutSeconds: 1, onError: onError, cancellationToken: token));
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "elsewhere" } }, "default");

        var events = await watch.EndAsync();

        Assert.Equal([(WatchEventType.Added, "settings")], events.Select(e => (e.Type, e.Object.Metadata.Name)));
    }

    [Fact]
    public async Task Watch_WithLabelSelector_SeesAnObjectLeavingTheSelectorAsDeletedAndReturningAsAdded()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(
            Objects.ConfigMap("settings", new Dictionary<string, string> { ["tier"] = "gold" }), "default");
        await using var watch = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync(
                "default", labelSelector: "tier=gold", resourceVersion: created.Metadata.ResourceVersion, onError: onError, cancellationToken: token));

        await PatchLabelAsync("""{"data":{"key":"changed"}}""");
        await PatchLabelAsync("""{"metadata":{"labels":{"tier":"silver"}}}""");
        await PatchLabelAsync("""{"data":{"key":"unseen"}}""");
        await PatchLabelAsync("""{"metadata":{"labels":{"tier":"gold"}}}""");
        var events = await watch.TakeAsync(3);

        Assert.Equal([WatchEventType.Modified, WatchEventType.Deleted, WatchEventType.Added], events.Select(e => e.Type));
        Assert.Equal("silver", events[1].Object.Metadata.Labels["tier"]);
        Assert.Equal("unseen", events[2].Object.Data["key"]);
    }

    [Fact]
    public async Task Watch_OfOneNamespace_IgnoresOtherNamespaces()
    {
        var ns = await Objects.NamespaceAsync(Client, "other");
        var start = await Client.CoreV1.ListNamespacedConfigMapAsync("default");
        await using var watch = WatchEvents<V1ConfigMap>.Start((onError, token) =>
            Client.CoreV1.WatchListNamespacedConfigMapAsync("default", resourceVersion: start.Metadata.ResourceVersion, onError: onError, cancellationToken: token));

        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("elsewhere"), ns);
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("here"), "default");
        var first = await watch.NextAsync();

        Assert.Equal(("here", "default"), (first.Object.Metadata.Name, first.Object.Metadata.NamespaceProperty));
    }

    private Task<V1ConfigMap> PatchLabelAsync(string patch) =>
        Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), "settings", "default");
}
