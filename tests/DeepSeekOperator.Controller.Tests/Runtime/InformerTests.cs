using System.Collections.Concurrent;
using System.Threading.Channels;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.DevCluster;
using DeepSeekOperator.DevCluster.Tests;
using DeepSeekOperator.Serving.Tests.Discovery;
using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.Controller.Tests.Runtime;

public sealed class InformerTests
{
    // Namespaces come with a kube-root-ca.crt ConfigMap, as in a real cluster; the informers see only the tests' own.
    private const string TestLabel = "test=informer";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RunAsync_ObjectsExist_ListsOnlyItsNamespaceAndSyncs()
    {
        await using var api = await RunningApiServer.StartAsync();
        await CreateNamespacesAsync(api.Client, "a", "b");
        await CreateConfigMapAsync(api.Client, "a", "one");
        await CreateConfigMapAsync(api.Client, "a", "two");
        await CreateConfigMapAsync(api.Client, "b", "other");

        await using var running = await StartConfigMapsAsync(api.Client);
        var (informer, events) = (running.Informer, running.Events);

        Assert.True(informer.HasSynced);
        Assert.Equal(["a/one", "a/two"], informer.List().Select(c => ObjectKey.Of(c).ToString()).Order());
        Assert.Equal(["added a/one", "added a/two"], (await events.TakeAsync(2)).Order());
    }

    [Fact]
    public async Task Watch_ObjectCreatedUpdatedDeleted_HandlersSeeEachChangeInOrder()
    {
        await using var api = await RunningApiServer.StartAsync();
        await CreateNamespacesAsync(api.Client, "a");
        await using var running = await StartConfigMapsAsync(api.Client);
        var (informer, events) = (running.Informer, running.Events);

        await CreateConfigMapAsync(api.Client, "a", "x");
        await api.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"k":"v"}}""", V1Patch.PatchType.MergePatch), "x", "a");
        await api.Client.CoreV1.DeleteNamespacedConfigMapAsync("x", "a");

        Assert.Equal(["added a/x", "updated a/x", "deleted a/x"], await events.TakeAsync(3));
        Assert.Empty(informer.List());
    }

    [Fact]
    public async Task Transform_DropsFields_CachedAndHandedOutWithoutThemAndReadBackIntact()
    {
        await using var api = await RunningApiServer.StartAsync();
        await CreateNamespacesAsync(api.Client, "a");
        var big = new string('x', 10_000);
        await api.Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap
            {
                Metadata = new V1ObjectMeta { Name = "x", Labels = new Dictionary<string, string> { ["test"] = "informer" } },
                Data = new Dictionary<string, string> { ["keep"] = big, ["drop"] = "gone" },
            },
            "a");
        var options = new InformerOptions { Namespace = "a", LabelSelector = TestLabel, ResyncPeriod = TimeSpan.Zero };
        var informer = new Informer<V1ConfigMap>(
            api.Client, options, TimeProvider.System, NullLogger<Informer<V1ConfigMap>>.Instance, configMap => configMap.Data.Remove("drop"));
        var handed = new List<V1ConfigMap>();
        informer.AddHandlers(new InformerHandlers<V1ConfigMap> { Added = handed.Add });
        await using var running = await Running<V1ConfigMap>.StartAsync(informer, Record(informer));
        await running.Events.TakeAsync(1);

        var cached = informer.Get(new ObjectKey("a", "x"))!;

        Assert.Equal(["keep"], cached.Data.Keys);
        Assert.Equal(big, cached.Data["keep"]);
        Assert.Equal(["keep"], Assert.Single(handed).Data.Keys);
    }

    [Fact]
    public async Task ListByOwner_ChildrenWithOwnerReference_FoundByOwnerUidAndDroppedWhenDeleted()
    {
        await using var api = await RunningApiServer.StartAsync();
        await CreateNamespacesAsync(api.Client, "a");
        var owner = await CreateConfigMapAsync(api.Client, "a", "owner");
        await CreateConfigMapAsync(api.Client, "a", "child-1", owner);
        await CreateConfigMapAsync(api.Client, "a", "child-2", owner);
        await CreateConfigMapAsync(api.Client, "a", "stranger");
        await using var running = await StartConfigMapsAsync(api.Client);
        var (informer, events) = (running.Informer, running.Events);
        await events.TakeAsync(4);

        Assert.Equal(["child-1", "child-2"], informer.ListByOwner(owner.Metadata.Uid).Select(c => c.Metadata.Name).Order());

        await api.Client.CoreV1.DeleteNamespacedConfigMapAsync("child-1", "a");
        await events.TakeAsync(1);
        Assert.Equal(["child-2"], informer.ListByOwner(owner.Metadata.Uid).Select(c => c.Metadata.Name));
    }

    [Fact]
    public async Task CachedObjects_HaveNoManagedFields_AndAReplaceFromOneKeepsTheServersRecord()
    {
        await using var api = await RunningApiServer.StartAsync();
        await CreateNamespacesAsync(api.Client, "a");
        var created = await CreateConfigMapAsync(api.Client, "a", "x");
        Assert.NotEmpty(created.Metadata.ManagedFields);
        await using var running = await StartConfigMapsAsync(api.Client);
        await running.Events.TakeAsync(1);

        var cached = running.Informer.Get(new ObjectKey("a", "x"))!;
        Assert.Null(cached.Metadata.ManagedFields);
        cached.Data = new Dictionary<string, string> { ["k"] = "v" };
        var replaced = await api.Client.CoreV1.ReplaceNamespacedConfigMapAsync(cached, "x", "a");

        Assert.Equal("v", replaced.Data["k"]);
        Assert.NotEmpty(replaced.Metadata.ManagedFields);
        Assert.Equal(["updated a/x"], await running.Events.TakeAsync(1));
        Assert.Null(running.Informer.Get(new ObjectKey("a", "x"))!.Metadata.ManagedFields);
    }

    [Fact]
    public async Task Resync_PeriodPassesOnManualClock_RedeliversEveryCachedObjectAsUpdate()
    {
        await using var api = await RunningApiServer.StartAsync();
        await CreateNamespacesAsync(api.Client, "a");
        await CreateConfigMapAsync(api.Client, "a", "one");
        await CreateConfigMapAsync(api.Client, "a", "two");
        var time = new ManualTime();
        await using var running = await StartConfigMapsAsync(api.Client, time);
        var events = running.Events;
        await events.TakeAsync(2);

        await time.AdvanceWhenArmedAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(["resynced a/one", "resynced a/two"], (await events.TakeAsync(2)).Order());
    }

    [Fact]
    public async Task Changed_UpdateAndResync_HandlerGetsTheNewStateBesideAnUpdatedHandler()
    {
        await using var api = await RunningApiServer.StartAsync();
        await CreateNamespacesAsync(api.Client, "a");
        var time = new ManualTime();
        await using var running = await StartConfigMapsAsync(api.Client, time);
        var changed = new EventLog();
        running.Informer.AddHandlers(new InformerHandlers<V1ConfigMap>
        {
            Changed = o => changed.Write("changed " + ObjectKey.Of(o) + " " + string.Join(",", (o.Data ?? new Dictionary<string, string>()).Select(d => d.Key + "=" + d.Value))),
        });

        await CreateConfigMapAsync(api.Client, "a", "x");
        await api.Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"k":"v"}}""", V1Patch.PatchType.MergePatch), "x", "a");
        Assert.Equal(["added a/x", "updated a/x"], await running.Events.TakeAsync(2));
        await time.AdvanceWhenArmedAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(["resynced a/x"], await running.Events.TakeAsync(1));
        Assert.Equal(["changed a/x k=v", "changed a/x k=v"], await changed.TakeAsync(2));
    }

    [Fact]
    public async Task RunAgain_ResourceVersionExpired_RelistsDeliveringOnlyTheDifference()
    {
        await using var api = await RunningApiServer.StartAsync(new ApiServerOptions { WatchWindow = 5 });
        await CreateNamespacesAsync(api.Client, "models", "churn");
        await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
        foreach (var name in new[] { "kept", "changed", "removed" })
        {
            await CreateModelAsync(api.Client, name);
        }

        var logger = new RecordingLogger<Informer<DeepSeekModel>>();
        var informer = new Informer<DeepSeekModel>(api.Client, new InformerOptions { Namespace = "models" }, TimeProvider.System, logger);
        var events = Record(informer);
        await using (await Running<DeepSeekModel>.StartAsync(informer, events))
        {
            await events.TakeAsync(3);
        }

        var stale = informer.ResourceVersion;
        await api.Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"metadata":{"labels":{"edited":"yes"}}}""", V1Patch.PatchType.MergePatch),
            DeepSeekModel.Group, DeepSeekModel.Version, "models", DeepSeekModel.Plural, "changed");
        await api.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, "models", DeepSeekModel.Plural, "removed");
        await CreateModelAsync(api.Client, "new");
        for (var i = 0; i < 10; i++)
        {
            await CreateConfigMapAsync(api.Client, "churn", "c" + i);
        }

        var second = await Running<DeepSeekModel>.StartAsync(informer, events);

        Assert.Equal(["added models/new", "deleted models/removed", "updated models/changed"], (await events.TakeAsync(3)).Order());
        Assert.Equal(["changed", "kept", "new"], informer.List().Select(m => m.Metadata.Name).Order());
        Assert.Equal("yes", informer.Get(new ObjectKey("models", "changed"))!.Metadata.Labels["edited"]);
        Assert.NotEqual(stale, informer.ResourceVersion);
        Assert.Contains(logger.Messages, m => m.Contains("410 Gone", StringComparison.Ordinal));
        await second.DisposeAsync();
        Assert.Equal(0, events.Pending);
    }

    // An informer of the tests' ConfigMaps in namespace "a", running and synced; a minute's resync on a manual clock.
    private static Task<Running<V1ConfigMap>> StartConfigMapsAsync(Kubernetes client, ManualTime? time = null)
    {
        var options = new InformerOptions { Namespace = "a", LabelSelector = TestLabel, ResyncPeriod = time is null ? TimeSpan.Zero : TimeSpan.FromMinutes(1) };
        var informer = new Informer<V1ConfigMap>(client, options, time ?? TimeProvider.System, NullLogger<Informer<V1ConfigMap>>.Instance);
        return Running<V1ConfigMap>.StartAsync(informer, Record(informer));
    }

    private static EventLog Record<T>(Informer<T> informer)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var log = new EventLog();
        informer.AddHandlers(new InformerHandlers<T>
        {
            Added = o => log.Write("added " + ObjectKey.Of(o)),
            Updated = (old, o) => log.Write((ReferenceEquals(old, o) ? "resynced " : "updated ") + ObjectKey.Of(o)),
            Deleted = o => log.Write("deleted " + ObjectKey.Of(o)),
        });
        return log;
    }

    private static async Task CreateNamespacesAsync(Kubernetes client, params string[] names)
    {
        foreach (var name in names)
        {
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        }
    }

    private static Task<V1ConfigMap> CreateConfigMapAsync(Kubernetes client, string ns, string name, V1ConfigMap? owner = null) =>
        client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap
            {
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    Labels = new Dictionary<string, string> { ["test"] = "informer" },
                    OwnerReferences = owner is null ? null :
                        [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = owner.Metadata.Name, Uid = owner.Metadata.Uid }],
                },
            },
            ns);

    // The tiny sample, renamed; retried briefly while the new CRD becomes served.
    private static async Task CreateModelAsync(Kubernetes client, string name)
    {
        var model = DeepSeekModelManifest.Read(await File.ReadAllTextAsync(Repository.PathOf("config/samples/tiny-synthetic.yaml"))).Model!;
        model.Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "models" };
        using var deadline = new CancellationTokenSource(Patience);
        while (true)
        {
            try
            {
                await client.CustomObjects.CreateNamespacedCustomObjectAsync(model, DeepSeekModel.Group, DeepSeekModel.Version, "models", DeepSeekModel.Plural, cancellationToken: deadline.Token);
                return;
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), deadline.Token);
            }
        }
    }

    private sealed class Running<T> : IAsyncDisposable
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        private readonly CancellationTokenSource stop = new();
        private Task run = Task.CompletedTask;

        private Running(Informer<T> informer, EventLog events)
        {
            Informer = informer;
            Events = events;
        }

        public Informer<T> Informer { get; }

        public EventLog Events { get; }

        public static async Task<Running<T>> StartAsync(Informer<T> informer, EventLog events)
        {
            var running = new Running<T>(informer, events);
            running.run = informer.RunAsync(running.stop.Token);
            await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(Patience);
            return running;
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await run.WaitAsync(Patience);
            stop.Dispose();
        }
    }

    private sealed class RecordingLogger<T> : ILogger<T>
    {
        private readonly ConcurrentQueue<string> messages = new();

        public IEnumerable<string> Messages => messages;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue(formatter(state, exception));
    }

    private sealed class EventLog
    {
        private readonly Channel<string> channel = Channel.CreateUnbounded<string>();

        public int Pending => channel.Reader.Count;

        public void Write(string entry) => channel.Writer.TryWrite(entry);

        public async Task<List<string>> TakeAsync(int count)
        {
            using var timeout = new CancellationTokenSource(Patience);
            var taken = new List<string>();
            while (taken.Count < count)
            {
                taken.Add(await channel.Reader.ReadAsync(timeout.Token));
            }

            return taken;
        }
    }
}
