using System.Diagnostics;
using System.Text.Json.Nodes;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Reconciling.Internal;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.Controller.Tests.Children;
using DeepSeekOperator.DevCluster.Tests;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.Controller.Tests.Reconciling;

/// <summary>The reconciler against the dev cluster's API server, with the tiny sample (no pods run, so nothing is ready).</summary>
public sealed class DeepSeekModelReconcilerTests
{
    private const string Namespace = "models";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly ObjectKey Key = new(Namespace, "tiny");

    [Fact]
    public async Task TinySample_Reconciled_EveryChildOwnedAndStatusShowsThem()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var expected = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);
        foreach (var child in expected.BuiltIn)
        {
            var live = await world.Children.ReadAsync(child, CancellationToken.None);
            Assert.NotNull(live);
            var owner = Assert.Single(live.Metadata.OwnerReferences);
            Assert.Equal((model.Metadata.Uid, true), (owner.Uid, owner.Controller));
        }

        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal(model.Metadata.Generation, status.ObservedGeneration);
        Assert.Equal(ModelPhase.Progressing, status.Phase);
        Assert.Equal(expected.Endpoint, status.Endpoint);
        Assert.Equal(16, status.Experts);
        Assert.Equal(new ReplicaStatus { Replicas = 0, ReadyReplicas = 0 }, status.Routers);
        Assert.Equal([0, 1, 2, 3], status.Shards!.Select(shard => shard.Index));
        Assert.All(status.Shards!, shard => Assert.Equal(expected.Placement.SlotsPerShard, shard.Experts));
        Assert.Equal(new PlacementStatus { ConfigMap = "tiny-placement", Revision = expected.Placement.Revision }, status.Placement);
        var ready = Assert.Single(status.Conditions!, c => c.Type == ConditionTypes.Ready);
        Assert.Equal(("False", "WaitingForReplicas", model.Metadata.Generation), (ready.Status, ready.Reason, ready.ObservedGeneration));
        Assert.Contains(status.Conditions!, c => c is { Type: ConditionTypes.Progressing, Status: "True" });
        Assert.Contains(status.Conditions!, c => c is { Type: ConditionTypes.Degraded, Status: "False" });
    }

    [Fact]
    public async Task ReconciledTwice_SecondWritesNothing()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();
        await world.ReconcileAsync();
        var before = await world.VersionsAsync(model);

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Equal(before, await world.VersionsAsync(model));
    }

    [Fact]
    public async Task DeletedChildAndEditedRouterReplicas_PutBackByTheNextReconcile()
    {
        await using var world = await World.StartAsync();
        await world.ModelAsync();
        await world.ReconcileAsync();
        await world.Client.CoreV1.DeleteNamespacedServiceAsync("tiny-shard-2", Namespace);
        var router = await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace);
        router.Spec.Replicas = 5;
        await world.Client.AppsV1.ReplaceNamespacedDeploymentAsync(router, "tiny-router", Namespace);

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Equal("tiny-shard-2", (await world.Client.CoreV1.ReadNamespacedServiceAsync("tiny-shard-2", Namespace)).Metadata.Name);
        Assert.Equal(1, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace)).Spec.Replicas);
    }

    [Fact]
    public async Task RouterReplicasChanged_RouterDeploymentUpdatedAndObservedGenerationFollows()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync();
        await world.ReconcileAsync();
        model = await world.ChangeAsync(model, m => m.Spec = m.Spec with { Router = m.Spec.Router with { Replicas = 3 } });

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Equal(3, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace)).Spec.Replicas);
        Assert.Equal(model.Metadata.Generation, (await world.ReadModelAsync()).Status!.ObservedGeneration);
    }

    [Fact]
    public async Task MoreShardsThanExperts_ReadyFalseInvalidSpecNamingTheField_WarningEventOnce()
    {
        await using var world = await World.StartAsync();
        var model = await world.ModelAsync(m => m.Spec = m.Spec with { Experts = m.Spec.Experts with { Shards = 17 } });

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal((ModelPhase.Failed, model.Metadata.Generation), (status.Phase, status.ObservedGeneration));
        var ready = Assert.Single(status.Conditions!, c => c.Type == ConditionTypes.Ready);
        Assert.Equal(("False", DeepSeekModelReconciler.InvalidSpec), (ready.Status, ready.Reason));
        Assert.StartsWith("spec.experts.shards", ready.Message, StringComparison.Ordinal);
        Assert.Empty((await world.Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items);
        var events = (await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items.Where(e => e.Reason == DeepSeekModelReconciler.InvalidSpec).ToList();
        Assert.Equal(EventRecorder.Warning, Assert.Single(events).Type);
    }

    [Fact]
    public async Task NoServiceMonitorCrd_ReconcileSucceedsWithoutServiceMonitor()
    {
        await using var world = await World.StartAsync();
        await world.ModelAsync();

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.Null(await PrometheusOperatorCrd.ReadAsync(world.Client, Namespace, Key.Name));
    }

    [Fact]
    public async Task ServiceMonitorCrdInstalled_OneOwnedServiceMonitorPerModel_EditPutBack()
    {
        await using var world = await World.StartAsync();
        await PrometheusOperatorCrd.InstallAsync(world.Client, Namespace);
        var model = await world.ModelAsync();

        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        var expected = ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings).ServiceMonitor;
        var monitors = await world.Client.CustomObjects.ListNamespacedCustomObjectAsync(ServiceMonitor.Group, ServiceMonitor.Version, Namespace, ServiceMonitor.Plural);
        var item = Assert.Single(JsonNode.Parse(KubernetesJson.Serialize(monitors))!["items"]!.AsArray());
        var live = KubernetesJson.Deserialize<ServiceMonitor>(item!.ToJsonString());
        Assert.Equal(expected.Metadata.Name, live.Metadata.Name);
        var owner = Assert.Single(live.Metadata.OwnerReferences);
        Assert.Equal((model.Metadata.Uid, true), (owner.Uid, owner.Controller));
        Assert.True(JsonNode.DeepEquals(expected.Spec, live.Spec), live.Spec.ToJsonString());

        live.Spec["endpoints"] = new JsonArray();
        await world.Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(live, ServiceMonitor.Group, ServiceMonitor.Version, Namespace, ServiceMonitor.Plural, live.Metadata.Name);
        Assert.Equal(ReconcileOutcome.Done, (await world.ReconcileAsync()).Outcome);

        Assert.True(JsonNode.DeepEquals(expected.Spec, (await PrometheusOperatorCrd.ReadAsync(world.Client, Namespace, Key.Name))!.Spec));
    }

    /// <summary>An API server with the CRD and a namespace, the models' cache running, and the reconciler under test.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task informerRun;

        private World(RunningApiServer api, Informer<DeepSeekModel> models)
        {
            Api = api;
            Models = models;
            informerRun = models.RunAsync(stop.Token);
            Reconciler = new DeepSeekModelReconciler(
                models, api.Client, Samples.Settings, new EventRecorder(api.Client, "test", TimeProvider.System, NullLogger<EventRecorder>.Instance),
                TimeProvider.System, TimeSpan.Zero, NullLogger<DeepSeekModelReconciler>.Instance);
            Children = new ChildClient(api.Client);
        }

        public RunningApiServer Api { get; }

        public Kubernetes Client => Api.Client;

        public Informer<DeepSeekModel> Models { get; }

        public DeepSeekModelReconciler Reconciler { get; }

        public ChildClient Children { get; }

        public static async Task<World> StartAsync()
        {
            var api = await RunningApiServer.StartAsync();
            await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
            await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
            await EventuallyAsync(async () =>
            {
                try
                {
                    await api.Client.CustomObjects.ListNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural);
                    return true;
                }
                catch (k8s.Autorest.HttpOperationException)
                {
                    return false;
                }
            });
            var models = new Informer<DeepSeekModel>(api.Client, new InformerOptions { Namespace = Namespace }, TimeProvider.System, NullLogger<Informer<DeepSeekModel>>.Instance);
            return new World(api, models);
        }

        /// <summary>Creates the tiny sample (changed by <paramref name="change"/>) and waits until the cache has it.</summary>
        public async Task<DeepSeekModel> ModelAsync(Action<DeepSeekModel>? change = null)
        {
            var sample = Samples.Read(Samples.TinyFile);
            sample.Metadata = new V1ObjectMeta { Name = Key.Name, NamespaceProperty = Namespace };
            change?.Invoke(sample);
            var created = await Client.CustomObjects.CreateNamespacedCustomObjectAsync(sample, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural);
            return await CachedAsync(KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(created)));
        }

        /// <summary>Applies <paramref name="change"/> to the model's spec and waits until the cache has the new generation.</summary>
        public async Task<DeepSeekModel> ChangeAsync(DeepSeekModel model, Action<DeepSeekModel> change)
        {
            var current = await ReadModelAsync();
            change(current);
            var replaced = await Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(current, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Key.Name);
            var result = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(replaced));
            Assert.True(result.Metadata.Generation > model.Metadata.Generation);
            return await CachedAsync(result);
        }

        public async Task<DeepSeekModel> ReadModelAsync()
        {
            var read = await Client.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Key.Name);
            return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(read));
        }

        public Task<ReconcileResult> ReconcileAsync() => Reconciler.ReconcileAsync(Key, CancellationToken.None);

        /// <summary>The resourceVersion of the model and of every child, by kind and name.</summary>
        public async Task<Dictionary<string, string>> VersionsAsync(DeepSeekModel model)
        {
            var versions = new Dictionary<string, string> { ["model"] = (await ReadModelAsync()).Metadata.ResourceVersion };
            foreach (var child in ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings).BuiltIn)
            {
                versions[child.Kind + "/" + child.Metadata.Name] = (await Children.ReadAsync(child, CancellationToken.None))!.Metadata.ResourceVersion;
            }

            return versions;
        }

        private async Task<DeepSeekModel> CachedAsync(DeepSeekModel model)
        {
            await EventuallyAsync(() => Task.FromResult(Models.Get(Key)?.Metadata.Generation == model.Metadata.Generation));
            return Models.Get(Key)!;
        }

        private static async Task EventuallyAsync(Func<Task<bool>> condition)
        {
            var clock = Stopwatch.StartNew();
            while (!await condition())
            {
                Assert.True(clock.Elapsed < Patience, "not within " + Patience);
                await Task.Delay(20);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await informerRun;
            stop.Dispose();
            await Api.DisposeAsync();
        }
    }
}
