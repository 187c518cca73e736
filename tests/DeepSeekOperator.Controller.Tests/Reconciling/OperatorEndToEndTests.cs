using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Reconciling.Internal;
using DeepSeekOperator.Controller.Tests.Children;
using DeepSeekOperator.Controller.Tests.Hosting;
using DeepSeekOperator.DevCluster.Tests;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Tests.Reconciling;

/// <summary>
/// The whole operator, <see cref="OperatorHost"/> running the DeepSeekModel controller, against the dev cluster's API
/// server: nothing reconciles but what the watches trigger.
/// </summary>
public sealed class OperatorEndToEndTests
{
    private const string Namespace = "models";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task CreatedModel_GetsEveryChildAndAStatusOfItsGeneration()
    {
        await using var world = await World.StartAsync();
        await world.StartOperatorAsync();

        var model = await world.CreateModelAsync();

        await world.ReconciledAsync(model);
        foreach (var child in World.Expected(model).BuiltIn)
        {
            var live = await world.Children.ReadAsync(child, CancellationToken.None);
            Assert.NotNull(live);
            Assert.Equal(model.Metadata.Uid, Assert.Single(live.Metadata.OwnerReferences).Uid);
        }
    }

    [Fact]
    public async Task DeletedShardService_PutBackThroughTheWatch()
    {
        await using var world = await World.StartAsync();
        await world.StartOperatorAsync();
        var model = await world.CreateModelAsync();
        await world.ReconciledAsync(model);
        var deleted = await world.Client.CoreV1.ReadNamespacedServiceAsync("tiny-shard-2", Namespace);

        await world.Client.CoreV1.DeleteNamespacedServiceAsync("tiny-shard-2", Namespace);

        await EventuallyAsync(
            async () => (await world.Client.CoreV1.ListNamespacedServiceAsync(Namespace)).Items.Any(s => s.Metadata.Name == "tiny-shard-2" && s.Metadata.Uid != deleted.Metadata.Uid),
            "tiny-shard-2 created again");
    }

    [Fact]
    public async Task RouterReplicasEdited_RouterDeploymentRolled()
    {
        await using var world = await World.StartAsync();
        await world.StartOperatorAsync();
        var model = await world.CreateModelAsync();
        await world.ReconciledAsync(model);

        model = await world.ChangeModelAsync(m => m.Spec = m.Spec with { Router = m.Spec.Router with { Replicas = 3 } });

        await world.ReconciledAsync(model);
        Assert.Equal(3, (await world.Client.AppsV1.ReadNamespacedDeploymentAsync("tiny-router", Namespace)).Spec.Replicas);
    }

    [Fact]
    public async Task ModelDeleted_ChildrenGarbageCollected()
    {
        await using var world = await World.StartAsync();
        await world.StartOperatorAsync();
        var model = await world.CreateModelAsync();
        await world.ReconciledAsync(model);

        await world.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, model.Metadata.Name);

        await EventuallyAsync(async () => (await world.LiveChildrenAsync(model)).Count == 0, "every child collected");
    }

    [Fact]
    public async Task OperatorRestarted_CreatesNoDuplicatesAndWritesNothing()
    {
        await using var world = await World.StartAsync();
        var first = await world.StartOperatorAsync();
        var model = await world.CreateModelAsync();
        await world.ReconciledAsync(model);
        var before = await world.VersionsAsync(model);
        var reconciles = await Operators.MetricAsync(first, """dsop_reconcile_total{controller="deepseekmodel",result="success"}""");
        await first.DisposeAsync();

        var second = await world.StartOperatorAsync();

        // The new leader has reconciled the model once its caches synced: it shows on its own /metrics.
        await EventuallyAsync(async () => await Operators.MetricAsync(second, """dsop_reconcile_total{controller="deepseekmodel",result="success"}""") >= 1, "the model reconciled by the new leader");
        Assert.True(reconciles >= 1);
        Assert.Equal(before, await world.VersionsAsync(model));
        Assert.Equal(
            World.Expected(model).BuiltIn.Count(),
            (await world.LiveChildrenAsync(model)).Count);
    }

    private static Task EventuallyAsync(Func<Task<bool>> condition, string what) => TinyModel.EventuallyAsync(condition, what, Patience);

    /// <summary>An API server with the CRD and the namespace, a kubeconfig for it, and the operators started on it.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly string directory;
        private readonly List<OperatorHost> hosts = [];

        private World(RunningApiServer api, string directory)
        {
            Api = api;
            this.directory = directory;
            Children = new ChildClient(api.Client);
        }

        public RunningApiServer Api { get; }

        public Kubernetes Client => Api.Client;

        public ChildClient Children { get; }

        public static async Task<World> StartAsync()
        {
            var api = await RunningApiServer.StartAsync();
            var directory = Directory.CreateTempSubdirectory("dsop-operator-e2e-").FullName;
            api.Server.WriteKubeconfig(Path.Combine(directory, "kubeconfig"));
            await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
            await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
            return new World(api, directory);
        }

        /// <summary>An operator host running the DeepSeekModel controller over <see cref="Namespace"/>.</summary>
        public async Task<OperatorHost> StartOperatorAsync()
        {
            var controller = DeepSeekModelController.Factory(new DeepSeekModelControllerOptions { Settings = Samples.Settings, Namespace = Namespace, Workers = 2 });
            var host = await OperatorHost.StartAsync(
                Operators.Fast with { Identity = $"operator-{hosts.Count}", Kubeconfig = Path.Combine(directory, "kubeconfig") },
                [controller],
                logging => logging.ClearProviders());
            hosts.Add(host);
            return host;
        }

        /// <summary>Creates the tiny sample once the API serves the kind.</summary>
        public Task<DeepSeekModel> CreateModelAsync() => TinyModel.CreateAsync(Client, Namespace, Patience);

        public async Task<DeepSeekModel> ChangeModelAsync(Action<DeepSeekModel> change)
        {
            var current = await ReadModelAsync();
            change(current);
            var replaced = await Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(current, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, current.Metadata.Name);
            return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(replaced));
        }

        public Task<DeepSeekModel> ReadModelAsync() => TinyModel.ReadAsync(Client, Namespace);

        public static ModelChildren Expected(DeepSeekModel model) => ModelChildren.Build(model, Samples.ConfigOf(model), Samples.Settings);

        /// <summary>Waits until the status reports <paramref name="model"/>'s generation, and every child exists.</summary>
        public Task ReconciledAsync(DeepSeekModel model) =>
            EventuallyAsync(
                async () => (await ReadModelAsync()).Status?.ObservedGeneration == model.Metadata.Generation
                    && (await LiveChildrenAsync(model)).Count == Expected(model).BuiltIn.Count(),
                $"generation {model.Metadata.Generation} observed");

        /// <summary>The children of <paramref name="model"/> that exist now.</summary>
        public async Task<List<IKubernetesObject<V1ObjectMeta>>> LiveChildrenAsync(DeepSeekModel model)
        {
            var live = new List<IKubernetesObject<V1ObjectMeta>>();
            foreach (var child in Expected(model).BuiltIn)
            {
                if (await Children.ReadAsync(child, CancellationToken.None) is { } found)
                {
                    live.Add(found);
                }
            }

            return live;
        }

        /// <summary>The resourceVersion of the model and of every child, by kind and name.</summary>
        public async Task<Dictionary<string, string>> VersionsAsync(DeepSeekModel model)
        {
            var versions = new Dictionary<string, string> { ["model"] = (await ReadModelAsync()).Metadata.ResourceVersion };
            foreach (var child in await LiveChildrenAsync(model))
            {
                versions[child.Kind + "/" + child.Metadata.Name] = child.Metadata.ResourceVersion;
            }

            return versions;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }

            await Api.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }
}
