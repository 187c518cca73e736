using System.Diagnostics;
using System.Threading.Channels;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Router;
using DeepSeekOperator.Serving.Tensors;
using DeepSeekOperator.Serving.Tests.Discovery;
using Prometheus;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.Router;

public sealed class RemoteExpertExecutorTests : IDisposable
{
    private static readonly ModelConfig Config = ShardCluster.Config;
    private static readonly int Layer = Config.MoeLayers[^1];
    private readonly LocalExpertExecutor _allExperts = ShardCluster.AllExperts();
    private readonly RecordingLogger<RemoteExpertExecutor> _logger = new();
    private readonly RouterMetrics _metrics = new(new CollectorRegistry());

    public void Dispose() => _allExperts.Dispose();

    [Fact]
    public async Task ForwardAsync_ContiguousPlacement_EqualsEveryExpertInProcess()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 4, slotsPerShard: 4);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 1);
        await using var executor = Executor(cluster, placement);

        foreach (var layer in Config.MoeLayers)
        {
            var (hidden, assignments) = RandomStep(seed: layer, tokenCount: 24);

            await AssertEqualsLocalAsync(executor, layer, hidden, assignments);
        }

        Assert.All(Enumerable.Range(0, 4), shard => Assert.Equal(Config.MoeLayers.Count, cluster.Record(shard, 0).Forwards.Count));
        Assert.All(Enumerable.Range(0, 4), shard => Assert.Equal(Config.MoeLayers.Count, _metrics.Dispatch.WithLabels(shard.ToString(System.Globalization.CultureInfo.InvariantCulture)).Count));
    }

    [Fact]
    public async Task NewExecutor_ExportsEachShardsDispatchFailuresAtZero()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 4, slotsPerShard: 4);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 1);
        await using var executor = Executor(cluster, placement);

        using var text = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(text);
        var exported = System.Text.Encoding.UTF8.GetString(text.ToArray());

        Assert.All(Enumerable.Range(0, 4), shard => Assert.Contains($"dsop_router_dispatch_failures_total{{shard=\"{shard}\"}} 0\n", exported, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForwardAsync_PlacementWithCopiesAndReplicas_EqualsEveryExpertInProcess()
    {
        var placement = PlacementGenerator.RoundRobin(Config, ShardCluster.ModelId, 1, shards: 4, slotsPerShard: 6);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 2);
        await using var executor = Executor(cluster, placement);
        var (hidden, assignments) = RandomStep(seed: 5, tokenCount: 40);

        for (var call = 0; call < 2; call++)
        {
            await AssertEqualsLocalAsync(executor, Layer, hidden, assignments);
        }

        // Round robin: the two calls went to both replicas of every shard.
        Assert.All(Enumerable.Range(0, 4), shard => Assert.All([0, 1], replica => Assert.Single(cluster.Record(shard, replica).Forwards)));
    }

    [Fact]
    public async Task ForwardAsync_BFloat16Wire_EqualsEveryExpertInProcessWithinBFloat16Precision()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 4, slotsPerShard: 4);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 1);
        await using var executor = Executor(cluster, placement, dtype: TensorDtype.Bfloat16);
        var (hidden, assignments) = RandomStep(seed: 3, tokenCount: 16);
        using var input = tensor(hidden, [16, Config.HiddenSize]);

        using var actual = await executor.ForwardAsync(Layer, input, assignments, CancellationToken.None);

        Assert.All(Enumerable.Range(0, 4), shard => Assert.All(cluster.Record(shard, 0).Forwards, f => Assert.Equal(TensorDtype.Bfloat16, f.Request.Dtype)));
        // The shards see bfloat16 inputs and round each partial sum once more.
        var rounded = TensorBytes.ToSingles(TensorBytes.FromSingles(hidden, TensorDtype.Bfloat16), TensorDtype.Bfloat16);
        var expected = Expected(Layer, rounded, assignments);
        var scale = expected.Max(Math.Abs);
        var values = actual.data<float>().ToArray();
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.InRange(Math.Abs(values[i] - expected[i]), 0, (Math.Abs(expected[i]) * Math.Pow(2, -7)) + (scale * Math.Pow(2, -8)));
        }
    }

    [Fact]
    public async Task ForwardAsync_TokenWithTwoExpertsOnOneShard_IsSentToThatShardOnce()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 4, slotsPerShard: 4);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 1);
        await using var executor = Executor(cluster, placement);
        var (hidden, _) = RandomStep(seed: 4, tokenCount: 3);
        // Token 0: experts 1 and 2 (shard 0); token 1: expert 5 (shard 1); token 2: no expert.
        var assignments = new ExpertAssignments(3, [0, 0, 1], [1, 2, 5], [0.25f, 0.5f, 1f]);

        await AssertEqualsLocalAsync(executor, Layer, hidden, assignments);
        var toShard0 = Assert.Single(cluster.Record(0, 0).Forwards).Request;
        Assert.Equal(1u, toShard0.NumTokens);
        Assert.Equal([0u, 0u], toShard0.Token);
        Assert.Equal([1u, 2u], toShard0.Expert);
        Assert.Equal(hidden.Take(Config.HiddenSize), TensorBytes.ToSingles(toShard0.Hidden.Span, TensorDtype.Float32));
        var toShard1 = Assert.Single(cluster.Record(1, 0).Forwards).Request;
        Assert.Equal(1u, toShard1.NumTokens);
        Assert.Equal(hidden.Skip(Config.HiddenSize).Take(Config.HiddenSize), TensorBytes.ToSingles(toShard1.Hidden.Span, TensorDtype.Float32));
        Assert.Empty(cluster.Record(2, 0).Forwards);
        Assert.Empty(cluster.Record(3, 0).Forwards);
    }

    [Fact]
    public async Task ForwardAsync_ExpertOnTwoShards_LeastLoadedShardTakesEachToken()
    {
        // Experts 7 and 8 are on both shards.
        var placement = new ExpertPlacement
        {
            Revision = 1,
            ModelId = ShardCluster.ModelId,
            Shards = 2,
            SlotsPerShard = 9,
            Layers = [.. Config.MoeLayers.Select(layer => new LayerPlacement { Layer = layer, Experts = [[.. Enumerable.Range(0, 9)], [.. Enumerable.Range(7, 9)]] })],
        };
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 1);
        await using var executor = Executor(cluster, placement);
        var (hidden, _) = RandomStep(seed: 6, tokenCount: 8);
        var assignments = new ExpertAssignments(8, [.. Enumerable.Range(0, 8)], [.. Enumerable.Repeat(7, 8)], [.. Enumerable.Repeat(0.5f, 8)]);

        await AssertEqualsLocalAsync(executor, Layer, hidden, assignments);
        Assert.Equal(4u, Assert.Single(cluster.Record(0, 0).Forwards).Request.NumTokens);
        Assert.Equal(4u, Assert.Single(cluster.Record(1, 0).Forwards).Request.NumTokens);
    }

    [Fact]
    public async Task ShardReplicaStopped_StepsCompleteOnTheOtherReplica()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 2, slotsPerShard: 8);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 2);
        await using var executor = Executor(cluster, placement);
        await cluster.StopAsync(0, 0);
        var (hidden, assignments) = RandomStep(seed: 7, tokenCount: 12);

        for (var call = 0; call < 4; call++)
        {
            await AssertEqualsLocalAsync(executor, Layer, hidden, assignments);
        }

        Assert.Equal(4, cluster.Record(0, 1).Forwards.Count);
        Assert.InRange(_metrics.DispatchFailures.WithLabels("0").Value, 1, 4);
        Assert.Equal(0, _metrics.DispatchFailures.WithLabels("1").Value);
    }

    [Fact]
    public async Task EveryReplicaOfAShardStopped_FailsFastNamingTheShard_AndRecoversWhenOneReturns()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 3, shards: 2, slotsPerShard: 8);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 2);
        await using var executor = Executor(cluster, placement);
        using var stop = new CancellationTokenSource();
        var run = executor.RunAsync(AsyncEnumerable.Empty<ExpertPlacement>(), stop.Token);
        await WaitUntilAsync(() => executor.UnreachableShards.Count == 0, "every shard reachable");
        await cluster.StopAsync(1, 0);
        await cluster.StopAsync(1, 1);
        var (hidden, assignments) = RandomStep(seed: 8, tokenCount: 12);
        using var input = tensor(hidden, [12, Config.HiddenSize]);

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<ShardUnavailableException>(async () => await executor.ForwardAsync(Layer, input, assignments, CancellationToken.None));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal(1, error.Shard);
        Assert.StartsWith("expert shard 1 (placement revision 3) has no reachable replica: tried ", error.Message, StringComparison.Ordinal);
        // Each replica is named with how its call failed (usually Unavailable: connection refused).
        Assert.Contains($"{cluster.Endpoint(1, 0)} (", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{cluster.Endpoint(1, 1)} (", error.Message, StringComparison.Ordinal);
        Assert.Equal([1], executor.UnreachableShards);

        await cluster.RestartAsync(1, 1, placement);
        await WaitUntilAsync(() => executor.UnreachableShards.Count == 0, "shard 1 reachable again");
        await AssertEqualsLocalAsync(executor, Layer, hidden, assignments);

        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task ShardReplicaPastTheDeadline_StepCompletesOnTheOtherReplica_AndFailsWhenNoneIsLeft()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 1, slotsPerShard: 16);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 2);
        // A deadline a loaded machine's honest answer cannot miss: only the held replica goes past it.
        await using var executor = Executor(cluster, placement, deadline: TimeSpan.FromSeconds(2));
        var (hidden, assignments) = RandomStep(seed: 9, tokenCount: 4);
        using var input = tensor(hidden, [4, Config.HiddenSize]);
        cluster.Record(0, 1).Hold();

        // Round robin sends one of the two calls to replica 1, which holds it past the deadline; it is retried on replica 0.
        for (var call = 0; call < 2; call++)
        {
            await AssertEqualsLocalAsync(executor, Layer, hidden, assignments);
        }

        Assert.Single(cluster.Record(0, 1).Forwards);
        Assert.Equal(2, cluster.Record(0, 0).Forwards.Count);
        Assert.Equal(1, _metrics.DispatchFailures.WithLabels("0").Value);
        Assert.Contains(_logger.Warnings, w => w.Contains($"replica {cluster.Endpoint(0, 1)}", StringComparison.Ordinal) && w.Contains("DeadlineExceeded", StringComparison.Ordinal));
        cluster.Record(0, 0).Hold();
        var error = await Assert.ThrowsAsync<ShardUnavailableException>(async () => await executor.ForwardAsync(Layer, input, assignments, CancellationToken.None));
        Assert.Contains("DeadlineExceeded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShardRefusesTheRequestAsInvalid_ThrowsItsMessageWithoutRetrying()
    {
        // The shards hold a Contiguous placement; the router believes revision 1 is RoundRobin.
        var served = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 2, slotsPerShard: 8);
        var believed = PlacementGenerator.RoundRobin(Config, ShardCluster.ModelId, 1, shards: 2, slotsPerShard: 8);
        await using var cluster = await ShardCluster.StartAsync(served, replicas: 2);
        await using var executor = Executor(cluster, believed);
        using var input = tensor(new float[Config.HiddenSize], [1, Config.HiddenSize]);

        // Expert 1 is on shard 1 in RoundRobin, on shard 0 in Contiguous.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await executor.ForwardAsync(Layer, input, new ExpertAssignments(1, [0], [1], [1f]), CancellationToken.None));

        Assert.StartsWith("expert shard 1 replica ", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused the request as invalid: step ", error.Message, StringComparison.Ordinal);
        Assert.Contains("expert[0] = 1 is not held by shard 1", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, cluster.Record(1, 0).Forwards.Count + cluster.Record(1, 1).Forwards.Count);
    }

    [Fact]
    public async Task ForwardAsync_CallerCancels_ThrowsOperationCanceledWithoutWaitingForTheShard()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 2, slotsPerShard: 8);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 1);
        await using var executor = Executor(cluster, placement);
        var (hidden, assignments) = RandomStep(seed: 10, tokenCount: 6);
        using var input = tensor(hidden, [6, Config.HiddenSize]);
        cluster.Record(1, 0).Hold();
        using var cancel = new CancellationTokenSource();

        var step = executor.ForwardAsync(Layer, input, assignments, cancel.Token).AsTask();
        await WaitUntilAsync(() => cluster.Record(1, 0).Forwards.Count == 1, "the call reached shard 1");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => step.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, _metrics.DispatchFailures.WithLabels("1").Value);
    }

    [Fact]
    public async Task ForwardAsync_UnderAStepSpan_ShardSeesOneTraceparentThatOfItsCallSpan()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 2, slotsPerShard: 8);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 1);
        await using var executor = Executor(cluster, placement);
        var calls = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ServingTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = calls.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var (hidden, assignments) = RandomStep(seed: 11, tokenCount: 6);
        using var input = tensor(hidden, [6, Config.HiddenSize]);

        using (var stepSpan = new Activity("step").Start())
        {
            using var actual = await executor.ForwardAsync(Layer, input, assignments, CancellationToken.None);
            // The shards' own spans (expert_shard.forward, in this process too) are in the trace as well.
            var mine = calls.Where(c => c.TraceId == stepSpan.TraceId && c.Kind == ActivityKind.Client).ToList();
            Assert.Equal(2, mine.Count);
            foreach (var shard in new[] { 0, 1 })
            {
                var call = Assert.Single(mine, c => Equals(c.GetTagItem("shard"), shard));
                Assert.Equal("expert_shard.call", call.OperationName);
                Assert.Equal(ActivityKind.Client, call.Kind);
                Assert.Equal(stepSpan.SpanId, call.ParentSpanId);
                Assert.Equal(Layer, call.GetTagItem("layer"));
                Assert.Equal(cluster.Endpoint(shard, 0).ToString(), call.GetTagItem("replica"));
                var received = Assert.Single(cluster.Record(shard, 0).Forwards);
                Assert.Equal(call.GetTagItem("tokens"), (int)received.Request.NumTokens);
                Assert.Equal([call.Id!], received.Traceparents);
            }
        }
    }

    [Fact]
    public async Task NewPlacementRevision_DispatchSwitchesOnlyOnceEveryShardServesIt()
    {
        var first = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 2, slotsPerShard: 8);
        var second = PlacementGenerator.RoundRobin(Config, ShardCluster.ModelId, 2, shards: 2, slotsPerShard: 8);
        await using var cluster = await ShardCluster.StartAsync(first, replicas: 2);
        await using var executor = Executor(cluster, first);
        var placements = Channel.CreateUnbounded<ExpertPlacement>();
        using var stop = new CancellationTokenSource();
        var run = executor.RunAsync(placements.Reader.ReadAllAsync(), stop.Token);
        await WaitUntilAsync(() => executor.UnreachableShards.Count == 0, "every shard reachable");
        var (hidden, assignments) = RandomStep(seed: 12, tokenCount: 10);

        await placements.Writer.WriteAsync(second);
        await _logger.WaitForAsync("Placement revision 2 received");
        await cluster.RestartAsync(0, 1, second);
        await _logger.WaitForAsync($"Shard 0 replica {cluster.Endpoint(0, 1)} serves placement revisions 2");

        Assert.Equal(1, executor.Placement.Revision);
        for (var call = 0; call < 2; call++)
        {
            await AssertEqualsLocalAsync(executor, Layer, hidden, assignments);
        }

        await cluster.RestartAsync(1, 1, second);
        await WaitUntilAsync(() => executor.Placement.Revision == 2, "the switch to revision 2");
        await _logger.WaitForAsync("Switched from placement revision 1 to revision 2");
        Assert.Equal(2, _metrics.PlacementRevision.Value);
        var sentBefore = Enumerable.Range(0, 2).Select(shard => cluster.Record(shard, 1).Forwards.Count).ToArray();
        for (var call = 0; call < 2; call++)
        {
            await AssertEqualsLocalAsync(executor, Layer, hidden, assignments);
        }

        var answered = Enumerable.Range(0, 2).SelectMany(shard => cluster.Record(shard, 1).Forwards.Skip(sentBefore[shard])).ToList();
        Assert.NotEmpty(answered);
        Assert.All(answered, f => Assert.Equal(2, f.Request.PlacementRevision));
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public async Task NewPlacementWithAnotherShardCount_IsLoggedAndIgnored()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 2, slotsPerShard: 8);
        await using var cluster = await ShardCluster.StartAsync(placement, replicas: 1);
        await using var executor = Executor(cluster, placement);
        using var stop = new CancellationTokenSource();
        var run = executor.RunAsync(new[] { PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 2, shards: 4, slotsPerShard: 4) }.ToAsyncEnumerable(), stop.Token);

        var logged = await _logger.WaitForAsync("Placement revision 2 ignored");

        Assert.Contains("it has 4 shards but the resolver finds replicas for 2", logged, StringComparison.Ordinal);
        Assert.Equal(1, executor.Placement.Revision);
        await stop.CancelAsync();
        await run;
    }

    [Fact]
    public void Constructor_PlacementAndResolverDisagreeOnShards_NamesBoth()
    {
        var placement = PlacementGenerator.Contiguous(Config, ShardCluster.ModelId, 1, shards: 2, slotsPerShard: 8);
        var resolver = new StaticShardResolver(ShardEndpoints.None(3));

        var error = Assert.Throws<ArgumentException>(() => new RemoteExpertExecutor(new RemoteExpertOptions { Config = Config }, placement, resolver, _metrics, _logger));

        Assert.StartsWith("placement revision 1 has 2 shards but the resolver finds replicas for 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_ZeroStepDeadline_IsRejectedNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => new RemoteExpertOptions { Config = Config, StepDeadline = TimeSpan.Zero }.Validate());

        Assert.Equal("StepDeadline", error.ParamName);
    }

    private RemoteExpertExecutor Executor(ShardCluster cluster, ExpertPlacement placement, TimeSpan? deadline = null, TensorDtype dtype = TensorDtype.Float32) => new(
        new RemoteExpertOptions
        {
            Config = Config,
            WireDtype = dtype,
            StepDeadline = deadline ?? TimeSpan.FromSeconds(10),
            ProbeInterval = TimeSpan.FromMilliseconds(50),
        },
        placement,
        cluster.Resolver(),
        _metrics,
        _logger);

    /// <summary>Random hidden states and, for each token, up to the model's top-k distinct experts of all of them, with random weights.</summary>
    private static (float[] Hidden, ExpertAssignments Assignments) RandomStep(int seed, int tokenCount)
    {
        var random = new Random(seed);
        var hidden = Enumerable.Range(0, tokenCount * Config.HiddenSize).Select(_ => (float)((random.NextDouble() * 4) - 2)).ToArray();
        List<int> tokens = [], experts = [];
        List<float> weights = [];
        for (var t = 0; t < tokenCount; t++)
        {
            foreach (var expert in Enumerable.Range(0, Config.NRoutedExperts).OrderBy(_ => random.Next()).Take(random.Next(Config.NumExpertsPerToken + 1)))
            {
                tokens.Add(t);
                experts.Add(expert);
                weights.Add((float)random.NextDouble());
            }
        }

        return (hidden, new ExpertAssignments(tokenCount, [.. tokens], [.. experts], [.. weights]));
    }

    private float[] Expected(int layer, float[] hidden, ExpertAssignments assignments)
    {
        using var input = tensor(hidden, [assignments.TokenCount, Config.HiddenSize]);
        using var output = _allExperts.Forward(layer, input, assignments);
        return output.data<float>().ToArray();
    }

    /// <summary>Runs the step through <paramref name="executor"/> and checks it against every expert run in this process.</summary>
    private async Task AssertEqualsLocalAsync(RemoteExpertExecutor executor, int layer, float[] hidden, ExpertAssignments assignments)
    {
        using var input = tensor(hidden, [assignments.TokenCount, Config.HiddenSize]);
        using var actual = await executor.ForwardAsync(layer, input, assignments, CancellationToken.None);
        AssertClose(Expected(layer, hidden, assignments), actual, 1e-5f);
    }

    private static void AssertClose(float[] expected, Tensor actual, float tolerance)
    {
        Assert.Equal(ScalarType.Float32, actual.dtype);
        var values = actual.data<float>().ToArray();
        Assert.Equal(expected.Length, values.Length);
        Assert.Contains(expected, v => v != 0f);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], values[i], tolerance);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                Assert.Fail($"not reached within 10 s: {what}");
            }

            await Task.Delay(10);
        }
    }
}
