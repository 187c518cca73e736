using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.Controller.Tests.Children;
using DeepSeekOperator.DevCluster.Tests;
using DeepSeekOperator.Serving.Placement;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Placement;

/// <summary>
/// The rebalancer against the dev cluster's API server, a Ready tiny model whose two router pods are in-process stubs
/// on loopback addresses answering <c>/v1/expert-load</c> and <c>/v1/placement</c> from the test's script, and a manual clock.
/// </summary>
public sealed class RebalancerTests
{
    private const string Namespace = "models";
    private const string Name = "tiny";
    private static readonly ObjectKey Key = new(Namespace, Name);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task SkewedLoad_NewRevisionGivenShardByShard_EachAfterTheLastServesIt_RoutersKeyLast_Recorded()
    {
        await using var world = await World.StartAsync();

        Assert.Equal(Poll, (await world.ReconcileAsync()).RequeueAfter);

        var before = World.Annotation(await world.ConfigMapAsync("tiny-placement-shard-0"), Rebalancer.ImbalanceBeforeAnnotation);
        var after = World.Annotation(await world.ConfigMapAsync("tiny-placement-shard-0"), Rebalancer.ImbalanceAfterAnnotation);
        Assert.True(before > 2 && after < 1.2, $"imbalance {before} → {after}");
        Assert.Equal("2 1 1 1 1", await world.RevisionsAsync());
        Assert.Equal((Rebalancer.RollingOut, "False"), await world.ConditionAsync());

        // Shard 0 does not serve revision 2 yet: shard 1 waits.
        Assert.Equal(Poll, (await world.ReconcileAsync()).RequeueAfter);
        Assert.Equal("2 1 1 1 1", await world.RevisionsAsync());

        for (var shard = 0; shard < 4; shard++)
        {
            world.Serving[shard] = [1, 2];
            await world.ReconcileAsync();
            var given = shard + 1;
            Assert.Equal(string.Join(' ', [.. Enumerable.Range(0, 4).Select(k => k <= given ? 2 : 1), given == 4 ? 2 : 1]), await world.RevisionsAsync());
        }

        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal(new PlacementStatus { ConfigMap = "tiny-placement", Revision = 2, Imbalance = Math.Round(after, 3), ImbalanceBefore = Math.Round(before, 3) }, status.Placement);
        Assert.Equal((Rebalancer.Balanced, "True"), await world.ConditionAsync());
        var published = Assert.Single((await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items, e => e.Reason == Rebalancer.PlacementPublished);
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture, $"Published placement revision 2 (imbalance {before:0.00} → {after:0.00})"), published.Message, StringComparison.Ordinal);
        Assert.Equal(after, await world.GaugeAsync());
        Assert.Equal((await world.ConfigMapAsync("tiny-placement-shard-3")).Data, (await world.ConfigMapAsync("tiny-placement")).Data);
    }

    [Fact]
    public async Task GainNotAboveMinImbalance_NothingPublished_BalancedWithTheRatio_NotAskedAgainBeforeTheInterval()
    {
        await using var world = await World.StartAsync(minImbalance: 100);

        Assert.Equal(TimeSpan.FromMinutes(1), (await world.ReconcileAsync()).RequeueAfter);

        Assert.Equal("1 1 1 1 1", await world.RevisionsAsync());
        var (reason, status) = await world.ConditionAsync();
        Assert.Equal((Rebalancer.Balanced, "True"), (reason, status));
        var current = (await world.ReadModelAsync()).Status!.Placement!.Imbalance!.Value;
        Assert.True(current > 2, $"imbalance {current}");
        Assert.Equal(current, Math.Round(await world.GaugeAsync(), 3));
        var asked = world.Requests;

        world.Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(40), (await world.ReconcileAsync()).RequeueAfter);
        Assert.Equal(asked, world.Requests);
    }

    [Fact]
    public async Task ShardsPerNode_ReachesThePlanner_HotGroupKeptOnItsNode()
    {
        // Tiny has 16 experts in 4 groups of 4; experts 0 to 3 (group 0) take most tokens. On 2 nodes of 2 shards the
        // hierarchical policy keeps group 0 on node 0 (shards 0 and 1), where the flat one spreads it over all 4 shards.
        await using var world = await World.StartAsync(shardsPerNode: 2);

        await world.ReconcileAsync();

        var published = ExpertPlacement.Parse((await world.ConfigMapAsync("tiny-placement-shard-0")).Data["placement.json"]);
        Assert.Equal(2, published.Revision);
        Assert.All(published.Layers, layer =>
        {
            Assert.All(layer.Experts.Take(2), held => Assert.Equal(2, held.Count(expert => expert < 4)));
            Assert.DoesNotContain(layer.Experts.Skip(2).SelectMany(held => held), expert => expert < 4);
        });
        Assert.True(World.Annotation(await world.ConfigMapAsync("tiny-placement-shard-0"), Rebalancer.ImbalanceAfterAnnotation) > 1.5);
    }

    [Fact]
    public async Task RouterUnreachable_NoChange_WarningAndConditionNameTheRouter()
    {
        await using var world = await World.StartAsync(secondRouterIp: "127.0.0.9");

        await world.ReconcileAsync();

        Assert.Equal("1 1 1 1 1", await world.RevisionsAsync());
        var warning = Assert.Single((await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items, e => e.Reason == Rebalancer.LoadUnavailable);
        Assert.Equal("Warning", warning.Type);
        Assert.StartsWith("router tiny-router-b: GET http://127.0.0.9:", warning.Message, StringComparison.Ordinal);
        Assert.Equal((Rebalancer.LoadUnavailable, "False"), await world.ConditionAsync());
    }

    [Fact]
    public async Task RouterAnswerWithoutLayers_NoChange_WarningNamesTheRouterAndTheField()
    {
        await using var world = await World.StartAsync();
        world.ExpertLoad = """{"modelId":"tiny","placementRevision":1,"since":"2025-01-01T00:00:00Z","windowSeconds":60}""";

        await world.ReconcileAsync();

        Assert.Equal("1 1 1 1 1", await world.RevisionsAsync());
        var warning = Assert.Single((await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items, e => e.Reason == Rebalancer.LoadUnavailable);
        Assert.StartsWith("router tiny-router-a: the expert-load answer is not valid", warning.Message, StringComparison.Ordinal);
        Assert.Contains("layers", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShardNotServingWithinTheTimeout_WarningImbalanced_RetriedAtTheNextInterval_ThenCarriesOn()
    {
        await using var world = await World.StartAsync();
        await world.ReconcileAsync();

        world.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.FromMinutes(1), (await world.ReconcileAsync()).RequeueAfter);

        var stalled = Assert.Single((await world.Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items, e => e.Reason == Rebalancer.RolloutStalled);
        Assert.Equal("Warning", stalled.Type);
        Assert.Contains("shard 0 has not served it within 00:05:00: router tiny-router-a: replica 127.0.0.1:9000 of shard 0 serves revisions [1]", stalled.Message, StringComparison.Ordinal);
        Assert.Equal((Rebalancer.Imbalanced, "False"), await world.ConditionAsync());
        Assert.Equal("2 1 1 1 1", await world.RevisionsAsync());

        world.Time.Advance(TimeSpan.FromMinutes(1));
        world.Serving[0] = [1, 2];
        Assert.Equal(Poll, (await world.ReconcileAsync()).RequeueAfter);
        Assert.Equal("2 2 1 1 1", await world.RevisionsAsync());
    }

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset now = start;

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }

    private sealed class World : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly List<WebApplication> routers = [];
        private readonly CollectorRegistry registry = Metrics.NewCustomRegistry();
        private Task informerRun = Task.CompletedTask;
        private Rebalancer? rebalancer;
        private int requests;

        private World(RunningApiServer api) => Api = api;

        public RunningApiServer Api { get; }

        public Kubernetes Client => Api.Client;

        public ManualTime Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

        /// <summary>The revisions each shard's one replica reports to the stub routers.</summary>
        public long[][] Serving { get; } = [[1], [1], [1], [1]];

        /// <summary>The stub routers' <c>/v1/expert-load</c> body: experts 0 to 3 (all on shard 0 in revision 1) take most tokens.</summary>
        public string ExpertLoad { get; set; } = SkewedLoad();

        public int Requests => Volatile.Read(ref requests);

        public static async Task<World> StartAsync(double minImbalance = 1.15, string secondRouterIp = "127.0.0.3", int? shardsPerNode = null)
        {
            var world = new World(await RunningApiServer.StartAsync());
            try
            {
                await world.ArrangeAsync(minImbalance, secondRouterIp, shardsPerNode);
                return world;
            }
            catch
            {
                await world.DisposeAsync();
                throw;
            }
        }

        public Task<ReconcileResult> ReconcileAsync() => rebalancer!.ReconcileAsync(Key, CancellationToken.None);

        public async Task<DeepSeekModel> ReadModelAsync()
        {
            var read = await Client.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Name);
            return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(read));
        }

        public Task<V1ConfigMap> ConfigMapAsync(string name) => Client.CoreV1.ReadNamespacedConfigMapAsync(name, Namespace);

        /// <summary>The revisions of the placement ConfigMaps of shards 0 … 3, then of the routers'.</summary>
        public async Task<string> RevisionsAsync()
        {
            var revisions = new List<long>();
            foreach (var name in Enumerable.Range(0, 4).Select(k => $"tiny-placement-shard-{k}").Append("tiny-placement"))
            {
                revisions.Add(ExpertPlacement.Parse((await ConfigMapAsync(name)).Data["placement.json"]).Revision);
            }

            return string.Join(' ', revisions);
        }

        public static double Annotation(V1ConfigMap configMap, string key) => double.Parse(configMap.Metadata.Annotations[key], CultureInfo.InvariantCulture);

        public async Task<(string Reason, string Status)> ConditionAsync()
        {
            var condition = Assert.Single((await ReadModelAsync()).Status!.Conditions!, c => c.Type == ConditionTypes.PlacementBalanced);
            return (condition.Reason, condition.Status);
        }

        public async Task<double> GaugeAsync()
        {
            using var stream = new MemoryStream();
            await registry.CollectAndExportAsTextAsync(stream);
            var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
            var match = Regex.Match(text, """(?m)^dsop_placement_imbalance_ratio\{namespace="models",model="tiny"\} (\S+)$""");
            Assert.True(match.Success, text);
            return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        private static string SkewedLoad()
        {
            var config = ModelChildren.PresetConfig(new ModelSource { Synthetic = new SyntheticSource() })!;
            var counts = new JsonArray([.. Enumerable.Range(0, config.NRoutedExperts).Select(e => JsonValue.Create(e < 4 ? 1000L : 10L))]);
            var layers = new JsonArray([.. config.MoeLayers.Select(layer => new JsonObject { ["layer"] = layer, ["total"] = counts.DeepClone(), ["window"] = counts.DeepClone() })]);
            return new JsonObject
            {
                ["modelId"] = Name,
                ["placementRevision"] = 1,
                ["since"] = "2025-01-01T00:00:00Z",
                ["windowSeconds"] = 60,
                ["layers"] = layers,
            }.ToJsonString();
        }

        private async Task ArrangeAsync(double minImbalance, string secondRouterIp, int? shardsPerNode)
        {
            var port = await StartRouterAsync(IPAddress.Parse("127.0.0.2"), 0);
            if (secondRouterIp == "127.0.0.3")
            {
                await StartRouterAsync(IPAddress.Parse(secondRouterIp), port);
            }

            await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
            await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
            await EventuallyAsync(async () =>
            {
                try
                {
                    await Client.CustomObjects.ListNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural);
                    return true;
                }
                catch (k8s.Autorest.HttpOperationException)
                {
                    return false;
                }
            });

            var sample = Samples.Read(Samples.TinyFile);
            sample.Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = Namespace };
            sample.Spec = sample.Spec with
            {
                Serving = sample.Spec.Serving with { Port = port },
                Placement = new PlacementSpec { Strategy = PlacementStrategy.Balanced, RebalanceInterval = "1m", MinImbalance = minImbalance, ShardsPerNode = shardsPerNode },
            };
            var created = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(
                await Client.CustomObjects.CreateNamespacedCustomObjectAsync(sample, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural)));
            created.Status = new DeepSeekModelStatus { Phase = ModelPhase.Ready };
            await Client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(created, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, Name);
            var children = ModelChildren.Build(created, Samples.ConfigOf(created), Samples.Settings);
            foreach (var configMap in children.ShardPlacementConfigMaps.Append(children.PlacementConfigMap))
            {
                await Client.CoreV1.CreateNamespacedConfigMapAsync(configMap, Namespace);
            }
            await RouterPodAsync("tiny-router-a", "127.0.0.2");
            await RouterPodAsync("tiny-router-b", secondRouterIp);

            var models = new Informer<DeepSeekModel>(Client, new InformerOptions { Namespace = Namespace }, TimeProvider.System, NullLogger<Informer<DeepSeekModel>>.Instance);
            var pods = new Informer<V1Pod>(
                Client, new InformerOptions { Namespace = Namespace, LabelSelector = "app.kubernetes.io/component=router" }, TimeProvider.System, NullLogger<Informer<V1Pod>>.Instance);
            informerRun = Task.WhenAll(models.RunAsync(stop.Token), pods.RunAsync(stop.Token));
            await EventuallyAsync(() => Task.FromResult(models.Get(Key)?.Status?.Phase == ModelPhase.Ready && pods.List().Count(p => p.Status?.PodIP is not null) == 2));
            rebalancer = new Rebalancer(
                models, pods, Client, new HttpClient(), new EventRecorder(Client, "test", Time, NullLogger<EventRecorder>.Instance), registry,
                new RebalancerOptions { Settings = Samples.Settings, Time = Time, PollInterval = Poll, ShardTimeout = TimeSpan.FromMinutes(5) },
                NullLogger<Rebalancer>.Instance);
        }

        private async Task RouterPodAsync(string name, string ip)
        {
            var pod = new V1Pod
            {
                Metadata = new V1ObjectMeta
                {
                    Name = name,
                    NamespaceProperty = Namespace,
                    Labels = new Dictionary<string, string>
                    {
                        [ChildLabels.InstanceKey] = Name,
                        [ChildLabels.ComponentKey] = ChildLabels.Router,
                        [ChildLabels.ManagedByKey] = ChildLabels.ManagedBy,
                    },
                },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "dsop", Image = "dsop:test" }] },
            };
            var created = await Client.CoreV1.CreateNamespacedPodAsync(pod, Namespace);
            created.Status = new V1PodStatus { Phase = "Running", PodIP = ip, Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }] };
            await Client.CoreV1.ReplaceNamespacedPodStatusAsync(created, name, Namespace);
        }

        // A stub router on ip:port (0 picks one); returns the port.
        private async Task<int> StartRouterAsync(IPAddress ip, int port)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(ip, port));
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapGet("/v1/expert-load", () =>
            {
                Interlocked.Increment(ref requests);
                return Results.Text(ExpertLoad, "application/json");
            });
            app.MapGet("/v1/placement", () =>
            {
                Interlocked.Increment(ref requests);
                var shards = new JsonArray([.. Serving.Select((revisions, k) => new JsonObject
                {
                    ["shard"] = k,
                    ["replicas"] = new JsonArray(new JsonObject { ["endpoint"] = "127.0.0.1:9000", ["reachable"] = true, ["revisions"] = new JsonArray([.. revisions.Select(r => JsonValue.Create(r))]) }),
                })]);
                return Results.Text(new JsonObject { ["modelId"] = Name, ["revision"] = 1, ["pending"] = null, ["shards"] = shards }.ToJsonString(), "application/json");
            });
            await app.StartAsync();
            routers.Add(app);
            return new Uri(app.Urls.Single()).Port;
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
            foreach (var router in routers)
            {
                await router.DisposeAsync();
            }

            await Api.DisposeAsync();
        }
    }
}
