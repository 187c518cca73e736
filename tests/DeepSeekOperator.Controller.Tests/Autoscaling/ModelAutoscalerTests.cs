using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Tests.Children;
using DeepSeekOperator.Controller.Tests.Prometheus;
using DeepSeekOperator.Controller.Tests.Reconciling;
using DeepSeekOperator.DevCluster.Tests;
using DeepSeekOperator.Serving.Tests.Discovery;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Autoscaling;

/// <summary>
/// The autoscaler and the DeepSeekModel controller together against the emulator, Prometheus played by a stub at the
/// HTTP level (and once by a real Prometheus), on a manual clock advanced a second at a time.
/// </summary>
public sealed class ModelAutoscalerTests
{
    private const string Namespace = "models";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task RouterLoadThreeTimesTheTarget_ScaledUpWithinOneInterval_WithEventStatusAndGauges_AndTheReconcilerAgrees()
    {
        await using var world = await World.StartAsync();
        world.Stub.AnswerQueries(query => Vector(query.Contains("dsop_router_inflight_requests", StringComparison.Ordinal) ? 96 : 20000));
        var created = world.Time.GetUtcNow();
        await world.CreateModelAsync(world.Stub.BaseAddress.ToString());
        await world.DeploymentsCreatedAsync();

        await world.RunUntilAsync(async () => await world.ReplicasAsync("tiny-router") == 3, "the routers scaled to 3");

        // The decision's time is the pass's (when it read the load), so a slow machine does not stretch it.
        var decided = (await world.ReadModelAsync()).Status!.Autoscaling!.LastScaleTime!.Value;
        var took = new DateTimeOffset(decided, TimeSpan.Zero) - created;
        Assert.True(took <= Interval + TimeSpan.FromSeconds(1), $"decided {took} after the model was created, more than one interval");
        await world.RunUntilAsync(async () => (await world.EventsAsync("ScaledUp")).Count == 1, "the ScaledUp event");
        Assert.Equal("routers: inflightRequests 96 for 1 replica (target 32): 1 → 3", Assert.Single(await world.EventsAsync("ScaledUp")).Message);
        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal(new ScalingDecision { Current = 1, Desired = 3, MetricValue = 96 }, status.Autoscaling!.Routers);
        Assert.NotNull(status.Autoscaling.LastScaleTime);
        Assert.Equal([0, 1, 2, 3], status.Autoscaling.Shards!.Select(shard => shard.Index));
        Assert.All(status.Autoscaling.Shards!, shard => Assert.Equal((1, 1, 20000.0), (shard.Current, shard.Desired, shard.MetricValue)));
        var limited = Assert.Single(status.Conditions!, c => c.Type == ConditionTypes.ScalingLimited);
        Assert.Equal(("False", "DesiredWithinRange"), (limited.Status, limited.Reason));
        var metrics = await world.MetricsAsync();
        Assert.Contains("""dsop_autoscaler_desired_replicas{namespace="models",model="tiny",component="router"} 3""", metrics, StringComparison.Ordinal);
        Assert.Contains("""dsop_autoscaler_metric_value{namespace="models",model="tiny",component="router"} 96""", metrics, StringComparison.Ordinal);
        Assert.Contains("""dsop_autoscaler_desired_replicas{namespace="models",model="tiny",component="shard-3"} 1""", metrics, StringComparison.Ordinal);
        Assert.Contains("""dsop_autoscaler_target_value{namespace="models",model="tiny",component="router"} 32""", metrics, StringComparison.Ordinal);
        Assert.Contains("""dsop_autoscaler_min_replicas{namespace="models",model="tiny",component="router"} 1""", metrics, StringComparison.Ordinal);
        Assert.Contains("""dsop_autoscaler_max_replicas{namespace="models",model="tiny",component="shard-3"} 4""", metrics, StringComparison.Ordinal);
        Assert.Contains("""dsop_autoscaler_current_replicas{namespace="models",model="tiny",component="shard-3"} 1""", metrics, StringComparison.Ordinal);

        // A spec change is reconciled without putting the router's replicas back.
        var generation = await world.ChangeSpecAsync(model => model.Spec = model.Spec with { Serving = model.Spec.Serving with { MaxBatchTokens = 2048 } });
        await TinyModel.EventuallyAsync(async () => (await world.ReadModelAsync()).Status?.ObservedGeneration == generation, "the change reconciled", Patience);
        Assert.Equal(3, await world.ReplicasAsync("tiny-router"));
        // The operator's gauges of the Deployments follow them: 3 routers wanted, and none ready without a kubelet.
        var deployments = await world.MetricsAsync();
        Assert.Contains("""dsop_model_replicas{namespace="models",model="tiny",component="router"} 3""", deployments, StringComparison.Ordinal);
        Assert.Contains("""dsop_model_ready_replicas{namespace="models",model="tiny",component="shard-3"} 0""", deployments, StringComparison.Ordinal);
    }

    /// <summary>The interval of the decision table's rows: short, so that each row runs in a few seconds.</summary>
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The router rows of the decision table, on a 5 s interval; shards stay at their target. Each row: the spec's
    /// change, the routers to start with, the load before the step (none: the step is at creation) and after it, the
    /// replicas reached, when the last change was decided after the step (at least, at most), the ScaledUp/ScaledDown
    /// and ScalingLimited Events, and the final ScalingLimited reason. The target is 32 in-flight requests per router.
    /// </summary>
    private static readonly Dictionary<string, DecisionCase> DecisionCases = new(StringComparer.Ordinal)
    {
        ["within tolerance: no change"] = new(
            spec => spec, 1, null, 35, 1, TimeSpan.Zero, TimeSpan.Zero,
            [], [], "DesiredWithinRange"),
        ["just past tolerance: scaled"] = new(
            spec => spec, 1, null, 36, 2, TimeSpan.Zero, Step + Second,
            ["routers: inflightRequests 36 for 1 replica (target 32): 1 → 2"], [], "DesiredWithinRange"),
        ["above maxReplicas: clamped, TooManyReplicas"] = new(
            spec => spec with { Routers = spec.Routers with { MaxReplicas = 4 }, Behavior = spec.Behavior with { ScaleUp = new() { MaxChangePercent = 1000 } } },
            1, null, 320, 4, TimeSpan.Zero, Step + Second,
            ["routers: inflightRequests 320 for 1 replica (target 32): 1 → 4"],
            ["routers: the desired replica count is more than the maximum replica count (10 recommended, 4 kept)"], "TooManyReplicas"),
        ["below minReplicas: brought to min, TooFewReplicas"] = new(
            spec => spec with { Routers = spec.Routers with { MinReplicas = 2 }, Behavior = spec.Behavior with { ScaleDown = new() { StabilizationWindowSeconds = 0, MaxChangePercent = 100 } } },
            4, null, 0, 2, TimeSpan.Zero, Step + Second,
            ["routers: inflightRequests 0 for 4 replicas (target 32): 4 → 2"],
            [], "TooFewReplicas"),
        ["scale-up stabilization: the higher recommendation must last the window"] = new(
            spec => spec with { Behavior = spec.Behavior with { ScaleUp = new() { StabilizationWindowSeconds = 15, MaxChangePercent = 200 } } },
            1, 32, 96, 3, TimeSpan.FromSeconds(15) - Step, TimeSpan.FromSeconds(15) + Second,
            ["routers: inflightRequests 96 for 1 replica (target 32): 1 → 3"], [], "DesiredWithinRange"),
        ["max change per step: doubling until the recommendation"] = new(
            spec => spec with { Routers = spec.Routers with { MaxReplicas = 16 }, Behavior = spec.Behavior with { ScaleUp = new() { MaxChangePercent = 100 } } },
            1, null, 320, 10, Step * 3, (Step * 4) + Second,
            [
                "routers: inflightRequests 320 for 1 replica (target 32): 1 → 2",
                "routers: inflightRequests 320 for 2 replicas (target 32): 2 → 4",
                "routers: inflightRequests 320 for 4 replicas (target 32): 4 → 8",
                "routers: inflightRequests 320 for 8 replicas (target 32): 8 → 10",
            ],
            ["routers: the desired replica count is increasing faster than the maximum scale rate (10 recommended, 2 this step)"], "DesiredWithinRange"),
    };

    public static TheoryData<string> DecisionRows() => [.. DecisionCases.Keys];

    [Theory]
    [MemberData(nameof(DecisionRows))]
    public async Task DecisionTable_RouterLoadThroughTheStub_ReplicasEventsAndConditionAsTheRowSays(string row)
    {
        var c = DecisionCases[row];
        await using var world = await World.StartAsync();
        var load = c.Before ?? c.Load;
        world.Stub.AnswerQueries(query => Vector(query.Contains("dsop_router_inflight_requests", StringComparison.Ordinal) ? Volatile.Read(ref load) : 20000));
        await world.CreateModelAsync(world.Stub.BaseAddress.ToString(), spec => c.Spec(spec with { Interval = "5s" }), c.Routers);
        if (c.Before is not null)
        {
            await world.RunUntilAsync(async () => (await world.ReadModelAsync()).Status?.Autoscaling?.Routers?.MetricValue is not null, "the first decision");
            Volatile.Write(ref load, c.Load);
        }

        var step = world.Time.GetUtcNow();
        await world.RunUntilAsync(
            async () => (await world.ReadModelAsync()).Status?.Autoscaling?.Routers is { MetricValue: not null } routers && routers.Desired == c.Expected && await world.ReplicasAsync("tiny-router") == c.Expected,
            $"the routers at {c.Expected}");
        await world.RunForAsync(Step * 2);

        Assert.Equal(c.Expected, await world.ReplicasAsync("tiny-router"));
        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal(c.Expected, status.Autoscaling!.Routers!.Desired);
        // The decision's time is the pass's (when it read the load), so a slow machine does not stretch it.
        var decided = status.Autoscaling.LastScaleTime is { } last ? new DateTimeOffset(last, TimeSpan.Zero) - step : TimeSpan.Zero;
        Assert.InRange(decided, c.NotBefore, c.Within);
        Assert.Equal(c.Reason, Assert.Single(status.Conditions!, condition => condition.Type == ConditionTypes.ScalingLimited).Reason);
        var scaled = (await world.EventsAsync("ScaledUp")).Concat(await world.EventsAsync("ScaledDown")).Select(e => e.Message);
        Assert.Equal(c.Scaled.Order(StringComparer.Ordinal), scaled.Order(StringComparer.Ordinal));
        var limited = await world.EventsAsync(ModelAutoscaler.ScalingLimited);
        Assert.All(limited, e => Assert.Equal("Normal", e.Type));
        Assert.Equal(c.Limited, limited.Select(e => e.Message));
    }

    [Fact]
    public async Task PrometheusDown_NoChange_OneWarningPerComponent_AndScalingLimitedMetricsUnavailable()
    {
        await using var world = await World.StartAsync();
        await world.CreateModelAsync($"http://127.0.0.1:{ClosedPort()}");

        await world.RunUntilAsync(async () => (await world.EventsAsync(ModelAutoscaler.MetricsUnavailable)).Count == 5, "a warning for the routers and each shard");
        await world.RunForAsync(Interval * 2);

        var warnings = await world.EventsAsync(ModelAutoscaler.MetricsUnavailable);
        Assert.Equal(5, warnings.Count);
        Assert.All(warnings, warning => Assert.Equal("Warning", warning.Type));
        var status = (await world.ReadModelAsync()).Status!;
        var limited = Assert.Single(status.Conditions!, c => c.Type == ConditionTypes.ScalingLimited);
        Assert.Equal(("True", ModelAutoscaler.MetricsUnavailable), (limited.Status, limited.Reason));
        Assert.Contains("Prometheus could not be reached", limited.Message, StringComparison.Ordinal);
        Assert.Contains("query 'sum(dsop_router_inflight_requests{namespace=\"models\"", limited.Message, StringComparison.Ordinal);
        Assert.Equal(new ScalingDecision { Current = 1, Desired = 1, MetricValue = null }, status.Autoscaling!.Routers);
        Assert.Equal(1, await world.ReplicasAsync("tiny-router"));
        Assert.Equal(1, await world.ReplicasAsync("tiny-shard-0"));
        Assert.DoesNotContain("dsop_autoscaler_metric_value{", await world.MetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrometheusDown_ReplicasAboveMaxReplicas_BroughtToTheBound_AsAnHpaDoes()
    {
        await using var world = await World.StartAsync();
        await world.CreateModelAsync($"http://127.0.0.1:{ClosedPort()}", autoscaling => autoscaling with { Routers = autoscaling.Routers with { MaxReplicas = 2 } });
        await world.DeploymentsCreatedAsync();
        var patch = new V1Patch(new { spec = new { replicas = 4 } }, V1Patch.PatchType.MergePatch);
        await world.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(patch, "tiny-router", Namespace);

        await world.RunUntilAsync(async () => await world.ReplicasAsync("tiny-router") == 2, "the routers brought to maxReplicas 2");

        Assert.Equal("routers: 4 replicas above maxReplicas 2, with no inflightRequests to read: 4 → 2", Assert.Single(await world.EventsAsync("ScaledDown")).Message);
        var warning = Assert.Single(await world.EventsAsync(ModelAutoscaler.MetricsUnavailable), e => e.Message.StartsWith("routers:", StringComparison.Ordinal));
        Assert.EndsWith("its replicas are only brought within their bounds", warning.Message, StringComparison.Ordinal);
        await world.RunForAsync(Interval * 2);
        Assert.Equal(2, await world.ReplicasAsync("tiny-router"));
        Assert.Equal(1, await world.ReplicasAsync("tiny-shard-0"));
    }

    [Fact]
    public async Task ShardsOnAUserQuery_EachScaledOnItsOwnLoad_AnEmptyResultChangesNothing()
    {
        await using var world = await World.StartAsync();
        world.Stub.AnswerQueries(query => query switch
        {
            _ when query.Contains("dsop_router", StringComparison.Ordinal) => Vector(32),
            """sum(load{namespace="models",shard="1"})""" => Vector(300),
            """sum(load{namespace="models",shard="2"})""" => """{"resultType":"vector","result":[]}""",
            _ => Vector(100),
        });
        await world.CreateModelAsync(world.Stub.BaseAddress.ToString(), spec => spec with
        {
            Shards = spec.Shards with { Target = new() { Query = """sum(load{namespace="$namespace",shard="$shard"})""", AverageValue = 100 } },
        });

        await world.RunUntilAsync(async () => await world.ReplicasAsync("tiny-shard-1") == 3, "shard 1 scaled to 3");
        await world.RunUntilAsync(async () => (await world.EventsAsync("ScaledUp")).Count == 1, "the ScaledUp event");

        int[] others = [await world.ReplicasAsync("tiny-shard-0"), await world.ReplicasAsync("tiny-shard-2"), await world.ReplicasAsync("tiny-shard-3")];
        Assert.Equal([1, 1, 1], others);
        Assert.Equal(1, await world.ReplicasAsync("tiny-router"));
        Assert.Equal("shard-1: query 300 for 1 replica (target 100): 1 → 3", Assert.Single(await world.EventsAsync("ScaledUp")).Message);
        var status = (await world.ReadModelAsync()).Status!;
        Assert.Equal(new ShardScalingDecision { Index = 2, Current = 1, Desired = 1, MetricValue = null }, status.Autoscaling!.Shards![2]);
        var limited = Assert.Single(status.Conditions!, c => c.Type == ConditionTypes.ScalingLimited);
        Assert.Equal(("True", ModelAutoscaler.MetricsUnavailable), (limited.Status, limited.Reason));
        Assert.StartsWith("shard-2: ", limited.Message, StringComparison.Ordinal);
        Assert.Contains("the result is empty", limited.Message, StringComparison.Ordinal);
        var warning = Assert.Single(await world.EventsAsync(ModelAutoscaler.MetricsUnavailable));
        Assert.StartsWith("shard-2: ", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadStops_ScaledDownOnlyAfterTheStabilizationWindow_ThenTurnedOff_GaugesAndStatusGo()
    {
        await using var world = await World.StartAsync();
        var load = 96.0;
        world.Stub.AnswerQueries(query => Vector(query.Contains("dsop_router_inflight_requests", StringComparison.Ordinal) ? Volatile.Read(ref load) : 20000));
        await world.CreateModelAsync(world.Stub.BaseAddress.ToString(), spec => spec with
        {
            Behavior = spec.Behavior with { ScaleDown = new() { StabilizationWindowSeconds = 60, MaxChangePercent = 100 } },
        });
        await world.RunUntilAsync(async () => await world.ReplicasAsync("tiny-router") == 3, "the routers scaled to 3");

        Volatile.Write(ref load, 0);
        var took = await world.RunUntilAsync(async () => await world.ReplicasAsync("tiny-router") == 1, "the routers scaled down to 1");

        // The last high recommendation came at most one interval before the load stopped, and holds for the window.
        Assert.InRange(took, TimeSpan.FromSeconds(60) - Interval, TimeSpan.FromSeconds(60) + Interval + TimeSpan.FromSeconds(1));
        await world.RunUntilAsync(async () => (await world.EventsAsync("ScaledDown")).Count == 1, "the ScaledDown event");
        Assert.Equal("routers: inflightRequests 0 for 3 replicas (target 32): 3 → 1", Assert.Single(await world.EventsAsync("ScaledDown")).Message);

        await world.ChangeSpecAsync(model => model.Spec = model.Spec with { Autoscaling = model.Spec.Autoscaling with { Enabled = false } });
        await world.RunUntilAsync(async () => !(await world.MetricsAsync()).Contains("dsop_autoscaler_desired_replicas{", StringComparison.Ordinal), "the gauges removed");
        await world.RunUntilAsync(async () => (await world.ReadModelAsync()).Status?.Autoscaling is null, "the autoscaling status removed");
        Assert.DoesNotContain((await world.ReadModelAsync()).Status!.Conditions!, c => c.Type == ConditionTypes.ScalingLimited);
    }

    [Fact]
    public async Task RealPrometheusScrapingARouterPodsGauge_DrivesTheScaleUp()
    {
        var registry = Metrics.NewCustomRegistry();
        Metrics.WithCustomRegistry(registry).CreateGauge("dsop_router_inflight_requests", "Requests being served.").Set(96);
        await using var endpoint = await MetricsEndpoint.StartAsync(registry);
        var pod = new Dictionary<string, string> { ["namespace"] = Namespace, ["pod"] = "tiny-router-5d8f7c9b4-x2x9k" };
        await using var prometheus = await PrometheusServer.StartAsync([new ScrapeJob("deepseek-models", [new ScrapeTarget(endpoint.Address, pod)])], TimeSpan.FromSeconds(1));
        await prometheus.WaitUntilScrapedAsync([endpoint.Address], Patience);
        await using var world = await World.StartAsync();
        await world.CreateModelAsync(prometheus.BaseAddress.ToString());

        await world.RunUntilAsync(async () => await world.ReplicasAsync("tiny-router") == 3, "the routers scaled to 3");

        Assert.Equal(new ScalingDecision { Current = 1, Desired = 3, MetricValue = 96 }, (await world.ReadModelAsync()).Status!.Autoscaling!.Routers);
        Assert.Equal(1, await world.ReplicasAsync("tiny-shard-0"));
    }

    /// <summary>A row of <see cref="DecisionCases"/>.</summary>
    private sealed record DecisionCase(
        Func<AutoscalingSpec, AutoscalingSpec> Spec, int Routers, double? Before, double Load, int Expected, TimeSpan NotBefore, TimeSpan Within, string[] Scaled, string[] Limited, string Reason);

    private static string Vector(double value) =>
        $$"""{"resultType":"vector","result":[{"metric":{},"value":[1735689600,"{{value.ToString(CultureInfo.InvariantCulture)}}"]}]}""";

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The emulator, a Prometheus stub, and both controllers on one manual clock and one registry.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private Task running = Task.CompletedTask;

        private World(RunningApiServer api, PrometheusStub stub)
        {
            Api = api;
            Stub = stub;
        }

        public RunningApiServer Api { get; }

        public PrometheusStub Stub { get; }

        public ManualTime Time { get; } = new();

        public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

        public Kubernetes Client => Api.Client;

        public static async Task<World> StartAsync()
        {
            var api = await RunningApiServer.StartAsync();
            await api.Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
            await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
            var world = new World(api, await PrometheusStub.StartAsync());
            ControllerFactory[] factories =
            [
                DeepSeekModelController.Factory(new DeepSeekModelControllerOptions { Settings = Samples.Settings, Namespace = Namespace, Workers = 2, Time = world.Time }),
                ModelAutoscaler.Factory(new ModelAutoscalerOptions { Namespace = Namespace, Time = world.Time }),
            ];
            var managed = factories.Select(factory => factory(api.Client, NullLoggerFactory.Instance, world.Registry)).ToList();
            world.running = Task.WhenAll(managed.SelectMany(m => m.Informers.Select(informer => informer.RunAsync(world.stop.Token)).Append(m.Controller.RunAsync(world.stop.Token))));
            return world;
        }

        /// <summary>
        /// Creates the tiny sample with autoscaling on against <paramref name="prometheusUrl"/>, changed by
        /// <paramref name="change"/>, starting with <paramref name="routers"/> routers.
        /// </summary>
        public async Task CreateModelAsync(string prometheusUrl, Func<AutoscalingSpec, AutoscalingSpec>? change = null, int routers = 1)
        {
            var sample = Samples.Read(Samples.TinyFile);
            sample.Metadata = new V1ObjectMeta { Name = TinyModel.Name, NamespaceProperty = Namespace };
            var autoscaling = sample.Spec.Autoscaling with
            {
                Enabled = true,
                PrometheusUrl = prometheusUrl,
                Interval = "15s",
                Behavior = sample.Spec.Autoscaling.Behavior with { ScaleUp = new() { StabilizationWindowSeconds = 0, MaxChangePercent = 200 } },
            };
            sample.Spec = sample.Spec with { Router = sample.Spec.Router with { Replicas = routers }, Autoscaling = change?.Invoke(autoscaling) ?? autoscaling };
            await TinyModel.EventuallyAsync(
                async () =>
                {
                    try
                    {
                        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(sample, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural);
                        return true;
                    }
                    catch (k8s.Autorest.HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.NotFound)
                    {
                        return false;
                    }
                },
                "the model created",
                Patience);
        }

        /// <summary>Changes the spec; the new generation.</summary>
        public async Task<long?> ChangeSpecAsync(Action<DeepSeekModel> change)
        {
            var model = await ReadModelAsync();
            change(model);
            var replaced = await Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(model, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, TinyModel.Name);
            return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(replaced)).Metadata.Generation;
        }

        public Task<DeepSeekModel> ReadModelAsync() => TinyModel.ReadAsync(Client, Namespace);

        /// <summary>The Deployment's replicas; 0 while it does not exist.</summary>
        /// <summary>Waits, without moving the clock, until the reconciler has created the router and shard Deployments.</summary>
        public Task DeploymentsCreatedAsync() => TinyModel.EventuallyAsync(
            async () => (await Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items.Count >= 5,
            "the router and shard Deployments",
            Patience);

        public async Task<int> ReplicasAsync(string deployment) =>
            (await Client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items.FirstOrDefault(d => d.Metadata.Name == deployment)?.Spec.Replicas ?? 0;

        public async Task<List<Corev1Event>> EventsAsync(string reason) =>
            [.. (await Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items.Where(e => e.Reason == reason)];

        public async Task<string> MetricsAsync()
        {
            using var text = new MemoryStream();
            await Registry.CollectAndExportAsTextAsync(text);
            return System.Text.Encoding.UTF8.GetString(text.ToArray());
        }

        /// <summary>Advances the clock a second at a time until <paramref name="condition"/> holds; how far it moved.</summary>
        public async Task<TimeSpan> RunUntilAsync(Func<Task<bool>> condition, string what)
        {
            var start = Time.GetUtcNow();
            var real = Stopwatch.StartNew();
            while (!await condition())
            {
                Assert.True(real.Elapsed < Patience, $"not {what} within {Patience} ({Time.GetUtcNow() - start} on the clock)");
                await Task.Delay(50);
                Time.Advance(TimeSpan.FromSeconds(1));
            }

            return Time.GetUtcNow() - start;
        }

        /// <summary>Advances the clock a second at a time by <paramref name="span"/>.</summary>
        public async Task RunForAsync(TimeSpan span)
        {
            for (var moved = TimeSpan.Zero; moved < span; moved += TimeSpan.FromSeconds(1))
            {
                await Task.Delay(50);
                Time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await running;
            stop.Dispose();
            await Stub.DisposeAsync();
            await Api.DisposeAsync();
        }
    }
}
