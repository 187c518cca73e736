using System.Diagnostics;
using System.Globalization;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.Serving.Placement;
using k8s;
using k8s.Models;
using Xunit.Abstractions;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// Load-driven autoscaling and expert rebalancing end to end on the dev cluster: real router and shard processes, a real Prometheus scraping them every
/// second, and the operator's autoscaler and rebalancer acting on what they measure, while a load generator streams
/// chat completions through the gateway Service and no request may fail.
/// </summary>
[Collection(OneDevClusterAtATime.Name)]
public sealed class AutoscalingEndToEndTests(ITestOutputHelper log)
{
    private static readonly TimeSpan ReadyPatience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ScaleDownWindow = TimeSpan.FromSeconds(15);
    private const double AverageInflight = 2;

    [Fact]
    public async Task LoadThroughTheGateway_ScalesRoutersUpWithinTwoIntervals_ThenDownOnlyAfterTheStabilizationWindow_NoRequestFails()
    {
        var started = Stopwatch.StartNew();
        await using var cluster = await OperatorOnDevCluster.StartAsync();
        const string name = "scaled";
        var api = await cluster.CreateReadyAsync(Parse(Model(name, $$$"""
              experts: {shards: 2, resources: {requests: {cpu: 100m, memory: 128Mi} } }
              placement: {strategy: Contiguous}
              autoscaling:
                enabled: true
                prometheusUrl: {{{cluster.Prometheus.BaseAddress.ToString().TrimEnd('/')}}}
                interval: {{{Interval.TotalSeconds}}}s
                routers: {minReplicas: 1, maxReplicas: 3, target: {metric: inflightRequests, averageValue: {{{AverageInflight}}} } }
                shards: {minReplicas: 1, maxReplicas: 1, target: {metric: tokensPerSecond, averageValue: 1000000} }
                behavior:
                  scaleUp: {stabilizationWindowSeconds: 0, maxChangePercent: 100}
                  scaleDown: {stabilizationWindowSeconds: {{{ScaleDownWindow.TotalSeconds}}}, maxChangePercent: 100}
            """)), ReadyPatience);
        log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] {name} Ready at {api}");
        var query = MetricQueries.Router(RouterMetric.InflightRequests, OperatorOnDevCluster.Namespace, name);
        var load = ChatLoad.Start(api, name, clients: 8, maxTokens: 48);
        await using (load)
        {
            // Scale up: from the first scrape that shows more than the target (and its 10% tolerance) for one router.
            await OperatorOnDevCluster.EventuallyAsync(
                async () => await RouterInflightAsync(cluster.PrometheusClient, query) > AverageInflight * 1.1 ? "crossed" : null,
                "the routers' in-flight requests above the target in Prometheus",
                TimeSpan.FromSeconds(30));
            var crossed = Stopwatch.GetTimestamp();
            log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] in-flight requests above {AverageInflight * 1.1} in Prometheus");
            var upBound = (2 * Interval) + OperatorOnDevCluster.ScrapeInterval;
            var replicas = await OperatorOnDevCluster.EventuallyAsync(
                async () => await RouterReplicasAsync(cluster.Client, name) is var r and > 1 ? r.ToString(CultureInfo.InvariantCulture) : null, "the router Deployment scaled up", upBound + TimeSpan.FromSeconds(10));
            var reaction = Stopwatch.GetElapsedTime(crossed);
            log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] router Deployment at {replicas} replicas, {reaction.TotalSeconds:0.0} s after the metric crossed the target");
            Assert.True(reaction <= upBound, $"scaled up {reaction.TotalSeconds:0.0} s after the metric crossed the target; the bound is two intervals and a scrape, {upBound.TotalSeconds} s");

            var scaled = await cluster.GetAsync(name);
            Assert.True(scaled.Status?.Autoscaling?.Routers is { Desired: > 1 }, $"status.autoscaling.routers: {KubernetesJson.Serialize(scaled.Status?.Autoscaling)}");
            Assert.NotNull(scaled.Status!.Autoscaling!.LastScaleTime);
            var up = Assert.Single(await OperatorOnDevCluster.EventuallyAsync(
                async () => await cluster.EventsAsync(name, "ScaledUp") is { Count: > 0 } e ? e.Take(1).ToList() : null, "a ScaledUp Event", TimeSpan.FromSeconds(10)));
            Assert.StartsWith("routers: inflightRequests ", up.Message, StringComparison.Ordinal);

            // More router processes serve: each ready router has routed tokens through its experts.
            var serving = await OperatorOnDevCluster.EventuallyAsync(
                async () =>
                {
                    var routers = await cluster.ReadyPodsAsync(name, "router");
                    if (routers.Count < 2)
                    {
                        return null;
                    }

                    foreach (var router in routers)
                    {
                        if ((await ExpertCountsAsync([router])).Values.Sum(counts => counts.Sum()) == 0)
                        {
                            return null;
                        }
                    }

                    return routers;
                },
                "two or more ready routers each serving requests",
                TimeSpan.FromSeconds(45));
            log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] {serving.Count} routers serve: {string.Join(", ", serving.Select(p => p.Metadata.Name))}");

            // Scale down: not before the stabilization window has passed over the last high recommendation (made at
            // most one interval before the load stopped), and within a window, two intervals and a scrape after it.
            var stopping = Stopwatch.GetTimestamp();
            await load.StopAsync();
            var stopped = Stopwatch.GetTimestamp();
            log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] load stopped after {load.Succeeded} requests ({Stopwatch.GetElapsedTime(stopping, stopped).TotalSeconds:0.0} s to finish those in flight)");
            var downBound = ScaleDownWindow + (2 * Interval) + OperatorOnDevCluster.ScrapeInterval;
            await OperatorOnDevCluster.EventuallyAsync(
                async () => await RouterReplicasAsync(cluster.Client, name) == 1 ? "down" : null, "the router Deployment back at 1 replica", downBound + TimeSpan.FromSeconds(10));
            var sinceStopping = Stopwatch.GetElapsedTime(stopping);
            var sinceStopped = Stopwatch.GetElapsedTime(stopped);
            log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] router Deployment at 1 replica, {sinceStopped.TotalSeconds:0.0} s after the load stopped");
            // The last pass under load began at most one interval (and the work queue's latency, allowed 1 s) before.
            Assert.True(sinceStopping >= ScaleDownWindow - Interval - TimeSpan.FromSeconds(1), $"scaled down {sinceStopping.TotalSeconds:0.0} s after the load began to stop, before the {ScaleDownWindow.TotalSeconds} s window less one {Interval.TotalSeconds} s interval and 1 s");
            Assert.True(sinceStopped <= downBound, $"scaled down {sinceStopped.TotalSeconds:0.0} s after the load stopped; the bound is the window, two intervals and a scrape, {downBound.TotalSeconds} s");
            var down = await OperatorOnDevCluster.EventuallyAsync(
                async () => await cluster.EventsAsync(name, "ScaledDown") is { Count: > 0 } e ? e : null, "a ScaledDown Event", TimeSpan.FromSeconds(10));
            Assert.Contains(down, e => e.Message.StartsWith("routers: inflightRequests ", StringComparison.Ordinal) && e.Message.EndsWith("→ 1", StringComparison.Ordinal));
            Assert.Equal(1, (await cluster.GetAsync(name)).Status?.Autoscaling?.Routers?.Desired);

            Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} of {load.Succeeded + load.Failures.Count} requests failed:\n{string.Join('\n', load.Failures.Take(10))}");
            Assert.True(load.Succeeded > 0, "no request completed");
        }

        await ShowKubectlAsync(cluster, started);
    }

    [Fact]
    public async Task SkewedModelSwitchedToBalanced_PlacementRolledOutShardByShardThenRouters_ImbalanceFromAbove2ToBelow1Point2_NoRequestFails()
    {
        var started = Stopwatch.StartNew();
        await using var cluster = await OperatorOnDevCluster.StartAsync();
        const string name = "skewed";
        const int shards = 4;
        var api = await cluster.CreateReadyAsync(Parse(Model(name, $$$"""
              experts: {shards: {{{shards}}}, redundantSlots: 1, resources: {requests: {cpu: 100m, memory: 128Mi} } }
              placement: {strategy: Contiguous, rebalanceInterval: 1m, minImbalance: 1.15}
            """, skew: 1.0)), ReadyPatience);
        log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] {name} Ready at {api}");
        var routersConfigMap = PublishedPlacement.RoutersConfigMap(name);
        var placementConfigMaps = Enumerable.Range(0, shards).Select(shard => PublishedPlacement.ShardConfigMap(name, shard)).Append(routersConfigMap).ToArray();
        var load = ChatLoad.Start(api, name, clients: 4, maxTokens: 32);
        await using (load)
        {
            var initial = ExpertPlacement.Parse((await ReadConfigMapAsync(cluster, routersConfigMap))[PublishedPlacement.Key]);
            var before = await MeasureImbalanceAsync(cluster, name, initial);
            log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] imbalance under Contiguous revision {initial.Revision}: {before:0.000}");
            Assert.True(before > 2.0, $"imbalance {before:0.000} under the Contiguous placement, expected above 2.0");

            // Balanced: the rebalancer plans from the routers' load at once and rolls the new revision out.
            var patch = new V1Patch("""{"spec":{"placement":{"strategy":"Balanced"}}}""", V1Patch.PatchType.MergePatch);
            await cluster.Client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, DeepSeekModel.Group, DeepSeekModel.Version, OperatorOnDevCluster.Namespace, DeepSeekModel.Plural, name);
            var switchedAt = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
            var routers = await cluster.ReadyPodsAsync(name, "router");
            var routerState = await OperatorOnDevCluster.EventuallyAsync(
                async () =>
                {
                    foreach (var configMap in placementConfigMaps)
                    {
                        if (ExpertPlacement.Parse((await ReadConfigMapAsync(cluster, configMap))[PublishedPlacement.Key]).Revision > initial.Revision)
                        {
                            switchedAt.TryAdd(configMap, started.Elapsed);
                        }
                    }

                    var states = new List<Serving.Router.RouterPlacementState>();
                    foreach (var router in routers)
                    {
                        states.Add(RouterPlacementReport.Parse(router.Metadata.Name, await GetAsync(router, "/v1/placement"), name, shards));
                    }

                    return states.All(state => state.Revision > initial.Revision) ? states : null;
                },
                "the routers on a new placement revision",
                TimeSpan.FromSeconds(45));
            var routersSwitched = started.Elapsed;
            log.WriteLine($"[{routersSwitched.TotalSeconds,5:0.0}s] routers on revision {routerState[0].Revision}; keys seen at the new revision: {string.Join(", ", switchedAt.OrderBy(e => e.Value).Select(e => $"{e.Key} {e.Value.TotalSeconds:0.0}s"))}");
            for (var shard = 0; shard < shards; shard++)
            {
                var key = PublishedPlacement.ShardConfigMap(name, shard);
                Assert.True(switchedAt.TryGetValue(key, out var at), $"{key} never seen at the new revision before the routers switched");
                Assert.True(at < routersSwitched, $"{key} got the new revision at {at.TotalSeconds:0.0} s, not before the routers switched at {routersSwitched.TotalSeconds:0.0} s");
            }

            foreach (var state in routerState)
            {
                Assert.All(state.Shards, shard => Assert.All(shard.Replicas, replica => Assert.Contains(state.Revision, replica.Revisions)));
            }

            var balanced = ExpertPlacement.Parse((await ReadConfigMapAsync(cluster, routersConfigMap))[PublishedPlacement.Key]);
            Assert.Equal(routerState[0].Revision, balanced.Revision);
            var after = await MeasureImbalanceAsync(cluster, name, balanced);
            log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] imbalance under Balanced revision {balanced.Revision}, on load routed after the switch: {after:0.000}");
            Assert.True(after < 1.2, $"imbalance {after:0.000} under the balanced revision {balanced.Revision}, expected below 1.2 (it was {before:0.000})");

            var model = await OperatorOnDevCluster.EventuallyAsync(
                async () => await cluster.GetAsync(name) is { Status.Placement.Revision: var revision } m && revision == balanced.Revision ? m : null,
                $"status.placement.revision {balanced.Revision}",
                TimeSpan.FromSeconds(10));
            Assert.True(model.Status!.Placement!.ImbalanceBefore > 2.0, $"status.placement.imbalanceBefore {model.Status.Placement.ImbalanceBefore}, expected above 2.0");
            Assert.True(model.Status.Placement.Imbalance < 1.2, $"status.placement.imbalance {model.Status.Placement.Imbalance}, expected below 1.2");
            var condition = Assert.Single(model.Status.Conditions!, c => c.Type == ConditionTypes.PlacementBalanced);
            Assert.Equal(("True", Rebalancer.Balanced), (condition.Status, condition.Reason));
            var published = Assert.Single(await cluster.EventsAsync(name, Rebalancer.PlacementPublished));
            Assert.Contains($"revision {balanced.Revision}", published.Message, StringComparison.Ordinal);

            await load.StopAsync();
            Assert.True(load.Failures.Count == 0, $"{load.Failures.Count} of {load.Succeeded + load.Failures.Count} requests failed:\n{string.Join('\n', load.Failures.Take(10))}");
            log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] {load.Succeeded} requests, none failed");
        }

        await ShowKubectlAsync(cluster, started);
    }

    private static string Model(string name, string more, double skew = 0) => $$$"""
        apiVersion: moe.deepseek-operator.io/v1alpha1
        kind: DeepSeekModel
        metadata: {name: {{{name}}}, namespace: {{{OperatorOnDevCluster.Namespace}}}}
        spec:
          model:
            source: {synthetic: {preset: tiny, seed: 7, skew: {{{skew.ToString(CultureInfo.InvariantCulture)}}} } }
            dtype: float32
          runtime: {device: cpu}
          router: {replicas: 1, resources: {requests: {cpu: 100m, memory: 256Mi} } }
          serving: {port: 8000, maxBatchTokens: 1024, maxConcurrentRequests: 16}
        {{{more}}}
        """;

    // Manifests are checked as `kubectl apply` would check them.
    private static DeepSeekModel Parse(string yaml)
    {
        var result = DeepSeekModelManifest.Read(yaml);
        return result is { IsValid: true, Model: { } model } ? model : throw new InvalidOperationException($"{string.Join("; ", result.Errors)}\n{yaml}");
    }

    private static async Task<double> RouterInflightAsync(PrometheusClient prometheus, string query) =>
        (await prometheus.QueryVectorAsync(query)).Samples is [var sample] ? sample.Value : 0;

    private static async Task<int> RouterReplicasAsync(Kubernetes client, string model) =>
        (await client.AppsV1.ReadNamespacedDeploymentAsync(model + "-router", OperatorOnDevCluster.Namespace)).Spec.Replicas ?? 1;

    private static async Task<IDictionary<string, string>> ReadConfigMapAsync(OperatorOnDevCluster cluster, string name) =>
        (await cluster.Client.CoreV1.ReadNamespacedConfigMapAsync(name, OperatorOnDevCluster.Namespace)).Data;

    /// <summary>
    /// The imbalance of <paramref name="placement"/> under the load the routers route from now on: their
    /// <c>/v1/expert-load</c> totals after at least 600 tokens' assignments per MoE layer, less those before, through
    /// the operator's own <see cref="PlacementPlanner.Imbalance"/>.
    /// </summary>
    private static async Task<double> MeasureImbalanceAsync(OperatorOnDevCluster cluster, string model, ExpertPlacement placement)
    {
        var routers = await cluster.ReadyPodsAsync(model, "router");
        var first = await ExpertCountsAsync(routers);
        var delta = await OperatorOnDevCluster.EventuallyAsync(
            async () =>
            {
                var now = await ExpertCountsAsync(routers);
                var difference = now.ToDictionary(layer => layer.Key, layer => layer.Value.Select((count, expert) => count - first[layer.Key][expert]).ToArray());
                return difference.Values.Min(counts => counts.Sum()) >= 600 * 4 ? difference : null;
            },
            "600 tokens routed",
            TimeSpan.FromSeconds(45));
        return PlacementPlanner.Imbalance(placement, new ExpertLoad(delta.Select(layer => new LayerLoad(layer.Key, [.. layer.Value.Select(c => (double)c)]))));
    }

    // Every MoE layer's routed-token totals, summed over the routers.
    private static async Task<Dictionary<int, long[]>> ExpertCountsAsync(IReadOnlyList<V1Pod> routers)
    {
        var sums = new Dictionary<int, long[]>();
        foreach (var router in routers)
        {
            var report = ExpertLoadReport.Parse(router.Metadata.Name, await GetAsync(router, "/v1/expert-load"));
            foreach (var layer in report.Layers)
            {
                var sum = sums.TryGetValue(layer.Layer, out var existing) ? existing : sums[layer.Layer] = new long[layer.Total.Count];
                for (var expert = 0; expert < sum.Length; expert++)
                {
                    sum[expert] += layer.Total[expert];
                }
            }
        }

        return sums;
    }

    private static async Task<string> GetAsync(V1Pod router, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync(new Uri($"http://{router.Status.PodIP}:8000{path}"));
    }

    private async Task ShowKubectlAsync(OperatorOnDevCluster cluster, Stopwatch started)
    {
        log.WriteLine($"[{started.Elapsed.TotalSeconds,5:0.0}s] $ kubectl get dsm -w -o wide\n{cluster.Watched}");
        log.WriteLine($"$ kubectl get events --field-selector involvedObject.kind=DeepSeekModel\n{await cluster.KubectlEventsAsync()}");
    }
}
