using System.Diagnostics;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Router;
using DeepSeekOperator.Serving.Tests.Discovery;
using Prometheus;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.Router;

public sealed class ContinuousBatcherTests : IAsyncLifetime, IDisposable
{
    private const int Seed = 7;
    private static readonly ModelConfig Config = SyntheticModel.Config(SyntheticPreset.Tiny);
    private static readonly int FirstMoeLayer = Config.MoeLayers[0];
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly MoeModel _model = Tiny();
    private readonly RouterMetrics _metrics = new(Metrics.NewCustomRegistry());
    private readonly RecordingLogger<ContinuousBatcher> _logger = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly List<IDisposable> _owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(Patience);
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        _model.Dispose();
    }

    public void Dispose() => _stop.Dispose();

    private static MoeModel Tiny() => MoeModel.FromWeights(Config, SyntheticModel.Weights(Config, Seed), ScalarType.Float32, CPU);

    private static GenerationRequest Greedy(int maxTokens, params int[] prompt) => new(prompt, new SamplingOptions { MaxTokens = maxTokens });

    private ContinuousBatcher Batcher(SchedulerOptions? options = null, MoeModel? model = null) =>
        new(model ?? _model, [], options ?? new SchedulerOptions(), _metrics, _logger);

    private void Start(ContinuousBatcher batcher) => _loops.Add(Task.Run(() => batcher.RunAsync(_stop.Token)));

    private async Task<GenerationResult> Alone(GenerationRequest request) => (await new BatchGenerator(_model, []).GenerateAsync([request]))[0];

    /// <summary>Calls <paramref name="onStep"/> with the step's number (from 1) and token count at the first MoE layer of every step of <paramref name="model"/>.</summary>
    private static List<int> ObserveSteps(MoeModel model, Action<int, int>? onStep = null)
    {
        var sizes = new List<int>();
        model.Routed += (layer, assignments) =>
        {
            if (layer == FirstMoeLayer)
            {
                sizes.Add(assignments.TokenCount);
                onStep?.Invoke(sizes.Count, assignments.TokenCount);
            }
        };
        return sizes;
    }

    private static async Task<GenerationResult> Finished(GenerationHandle handle)
    {
        var streamed = new List<int>();
        await foreach (var token in handle.Tokens.ReadAllAsync().WithCancellation(new CancellationTokenSource(Patience).Token))
        {
            streamed.Add(token);
        }

        var result = await handle.Completion.WaitAsync(Patience);
        Assert.Equal(result.Tokens, streamed);
        return result;
    }

    private static async Task AssertCancelled(GenerationHandle handle)
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.Completion.WaitAsync(Patience));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Drain(handle).WaitAsync(Patience));
    }

    /// <summary>Reads the handle's tokens to the end: throws what the channel was completed with.</summary>
    private static async Task Drain(GenerationHandle handle)
    {
        while (await handle.Tokens.WaitToReadAsync())
        {
            while (handle.Tokens.TryRead(out _))
            {
            }
        }
    }

    [Fact]
    public async Task RequestsSubmittedTogether_GenerateWhatBatchGeneratorGivesEachAlone()
    {
        GenerationRequest[] requests =
        [
            Greedy(6, 256, 1, 2, 3, 4, 5),
            Greedy(3, 256, 9),
            new([256, 30, 31, 32], new SamplingOptions { MaxTokens = 7, Temperature = 0.7, TopP = 0.9, Seed = 12 }),
        ];
        var expected = new List<GenerationResult>();
        foreach (var request in requests)
        {
            expected.Add(await Alone(request));
        }

        var batcher = Batcher();
        var handles = requests.Select(r => batcher.Submit(r, CancellationToken.None)).ToList();
        Start(batcher);

        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(expected[i], await Finished(handles[i]), GenerationResultComparer.Instance);
        }

        Assert.Equal(0, _metrics.InflightRequests.Value);
        Assert.Equal(expected.Sum(r => r.Tokens.Count), _metrics.Tokens.WithLabels("generated").Value);
        Assert.Equal(requests.Sum(r => r.Prompt.Count), _metrics.Tokens.WithLabels("prompt").Value);
    }

    [Fact]
    public async Task RequestJoiningAfterTheFirstsThirdToken_PrefillsAlongsideItsDecodeAndBothMatchBatchGenerator()
    {
        var first = Greedy(8, 256, 72, 105);
        var second = Greedy(5, 256, 40, 41, 42, 43);
        var expectedFirst = await Alone(first);
        var expectedSecond = await Alone(second);
        var batcher = Batcher();
        var secondHandle = new TaskCompletionSource<GenerationHandle>(TaskCreationOptions.RunContinuationsAsynchronously);
        var steps = ObserveSteps(_model, (step, _) =>
        {
            // Step 4 feeds the first request's 3rd token: it has been streamed by now.
            if (step == 4)
            {
                secondHandle.SetResult(batcher.Submit(second, CancellationToken.None));
            }
        });
        var firstHandle = batcher.Submit(first, CancellationToken.None);
        Start(batcher);

        Assert.Equal(expectedFirst, await Finished(firstHandle), GenerationResultComparer.Instance);
        Assert.Equal(expectedSecond, await Finished(await secondHandle.Task.WaitAsync(Patience)), GenerationResultComparer.Instance);
        Assert.Equal([3, 1, 1, 1, 1 + second.Prompt.Count], steps.Take(5));
    }

    [Fact]
    public async Task SeededSampling_IsReproducibleWithinABatch()
    {
        var request = new GenerationRequest([256, 5, 6], new SamplingOptions { MaxTokens = 10, Temperature = 1.2, Seed = 99 });
        var batcher = Batcher();
        var a = batcher.Submit(request, CancellationToken.None);
        var b = batcher.Submit(request, CancellationToken.None);
        Start(batcher);

        var first = await Finished(a);
        var second = await Finished(b);

        Assert.Equal(first.Tokens, second.Tokens);
        Assert.Equal((await Alone(request)).Tokens, first.Tokens);
    }

    [Fact]
    public async Task FullQueue_WhileMaxConcurrentRequestsRun_AnswersQueueFullException()
    {
        var batcher = Batcher(new SchedulerOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 2 });
        var queued = new List<GenerationHandle>();
        var refused = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var depth = 0.0;
        ObserveSteps(_model, (step, _) =>
        {
            if (step == 2)
            {
                queued.Add(batcher.Submit(Greedy(2, 256, 1), CancellationToken.None));
                queued.Add(batcher.Submit(Greedy(2, 256, 2), CancellationToken.None));
                depth = _metrics.QueueDepth.Value;
                refused.SetResult(Record.Exception(() => batcher.Submit(Greedy(2, 256, 3), CancellationToken.None)));
            }
        });
        var running = batcher.Submit(Greedy(4, 256, 7), CancellationToken.None);
        Start(batcher);

        var error = Assert.IsType<QueueFullException>(await refused.Task.WaitAsync(Patience));
        Assert.Equal(2, error.Capacity);
        Assert.Equal(2, depth);
        Assert.Equal(4, (await Finished(running)).Tokens.Count);
        foreach (var handle in queued)
        {
            Assert.Equal(2, (await Finished(handle)).Tokens.Count);
        }
    }

    [Fact]
    public async Task MaxBatchTokens_BoundsEveryStepAndAdmitsInOrderWhenRoomAppears()
    {
        GenerationRequest[] requests = [Greedy(4, 256, 1, 2, 3, 4), Greedy(4, 256, 5, 6, 7, 8), Greedy(4, 256, 9, 10, 11, 12)];
        var expected = new List<GenerationResult>();
        foreach (var request in requests)
        {
            expected.Add(await Alone(request));
        }

        var batcher = Batcher(new SchedulerOptions { MaxBatchTokens = 11 });
        var steps = ObserveSteps(_model);
        var handles = requests.Select(r => batcher.Submit(r, CancellationToken.None)).ToList();
        Start(batcher);

        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(expected[i], await Finished(handles[i]), GenerationResultComparer.Instance);
        }

        // Two prompts of 5 fit the first step; the third joins the two decodes of the second (2 + 5 ≤ 11).
        Assert.Equal([10, 7], steps.Take(2));
        Assert.All(steps, size => Assert.InRange(size, 1, 11));
    }

    [Fact]
    public async Task CancelledRequest_LeavesTheBatchAndTheNextQueuedRequestRuns()
    {
        using var client = new CancellationTokenSource();
        using var neverStarted = new CancellationTokenSource();
        var next = Greedy(3, 256, 20);
        var expected = await Alone(next);
        var batcher = Batcher(new SchedulerOptions { MaxConcurrentRequests = 1 });
        ObserveSteps(_model, (step, _) =>
        {
            if (step == 2)
            {
                client.Cancel();
            }
        });
        var cancelled = batcher.Submit(Greedy(500, 256, 10), client.Token);
        var dropped = batcher.Submit(Greedy(3, 256, 30), neverStarted.Token);
        var waiting = batcher.Submit(next, CancellationToken.None);
        await neverStarted.CancelAsync();
        Start(batcher);

        await AssertCancelled(cancelled);
        await AssertCancelled(dropped);
        Assert.Equal(expected, await Finished(waiting), GenerationResultComparer.Instance);
        Assert.Equal(0, _metrics.InflightRequests.Value);
        Assert.Equal(0, _metrics.QueueDepth.Value);
    }

    [Fact]
    public async Task FailingStep_FailsTheRequestsInItAndLaterRequestsSucceed()
    {
        var experts = new FailOnceExperts(_model.Experts, new ShardUnavailableException(2, "shard 2 has no reachable replica"));
        var weights = SyntheticModel.Weights(Config, Seed);
        var routed = weights.Keys.Where(name => name.Contains(".mlp.experts.", StringComparison.Ordinal)).ToList();
        foreach (var name in routed)
        {
            weights[name].Dispose();
            weights.Remove(name);
        }

        var remote = new MoeModel(Config, weights, experts, ScalarType.Float32, CPU);
        _owned.Add(remote);
        var later = Greedy(4, 256, 50, 51);
        var expected = await Alone(later);
        var batcher = Batcher(new SchedulerOptions { MaxConcurrentRequests = 2 }, remote);
        var failed = new[] { batcher.Submit(Greedy(4, 256, 1), CancellationToken.None), batcher.Submit(Greedy(4, 256, 2), CancellationToken.None) };
        var queued = batcher.Submit(later, CancellationToken.None);
        Start(batcher);

        foreach (var handle in failed)
        {
            var error = await Assert.ThrowsAsync<ShardUnavailableException>(() => handle.Completion.WaitAsync(Patience));
            Assert.Equal(2, error.Shard);
            await Assert.ThrowsAsync<ShardUnavailableException>(() => Drain(handle).WaitAsync(Patience));
        }

        Assert.Equal(expected, await Finished(queued), GenerationResultComparer.Instance);
        Assert.Equal(expected, await Finished(batcher.Submit(later, CancellationToken.None)), GenerationResultComparer.Instance);
        Assert.Contains("shard 2 has no reachable replica", Assert.Single(_logger.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellingRunAsync_EndsQueuedAndRunningRequestsCancelledAndReturns()
    {
        using var stop = new CancellationTokenSource();
        var batcher = Batcher(new SchedulerOptions { MaxConcurrentRequests = 1 });
        ObserveSteps(_model, (step, _) =>
        {
            if (step == 2)
            {
                stop.Cancel();
            }
        });
        var running = batcher.Submit(Greedy(500, 256, 1), CancellationToken.None);
        var queued = batcher.Submit(Greedy(3, 256, 2), CancellationToken.None);

        await Task.Run(() => batcher.RunAsync(stop.Token)).WaitAsync(Patience);

        await AssertCancelled(running);
        await AssertCancelled(queued);
        await AssertCancelled(batcher.Submit(Greedy(3, 256, 3), CancellationToken.None));
        Assert.Equal(0, _metrics.InflightRequests.Value);
        Assert.Equal(0, _metrics.QueueDepth.Value);
    }

    [Fact]
    public async Task Step_IsAChildOfTheOldestRequestsTraceAndLinksTheOthers()
    {
        using var source = new ActivitySource("ContinuousBatcherTests");
        var steps = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is ServingTelemetry.SourceName or "ContinuousBatcherTests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "scheduler.step")
                {
                    lock (steps)
                    {
                        steps.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var batcher = Batcher();
        var during = new List<string?>();
        ObserveSteps(_model, (_, _) => during.Add(Activity.Current?.OperationName));
        ActivityContext olderTrace, newerTrace;
        GenerationHandle older, newer;
        using (var request = source.StartActivity("older request"))
        {
            olderTrace = request!.Context;
            older = batcher.Submit(Greedy(2, 256, 1), CancellationToken.None);
        }

        using (var request = source.StartActivity("newer request"))
        {
            newerTrace = request!.Context;
            newer = batcher.Submit(Greedy(2, 256, 2), CancellationToken.None);
        }

        Start(batcher);
        await Finished(older);
        await Finished(newer);

        List<Activity> traced;
        lock (steps)
        {
            traced = [.. steps.Where(s => s.TraceId == olderTrace.TraceId)];
        }

        Assert.Equal(2, traced.Count);
        Assert.All(traced, step =>
        {
            Assert.Equal(olderTrace.SpanId, step.ParentSpanId);
            Assert.Equal(newerTrace, Assert.Single(step.Links).Context);
            Assert.Equal(2, step.GetTagItem("scheduler.sequences"));
        });
        Assert.Equal(4, traced[0].GetTagItem("scheduler.tokens"));
        Assert.Equal(4, traced[0].GetTagItem("scheduler.prefill_tokens"));
        Assert.Equal(2, traced[1].GetTagItem("scheduler.tokens"));
        Assert.Equal(0, traced[1].GetTagItem("scheduler.prefill_tokens"));
        Assert.Equal(["scheduler.step", "scheduler.step"], during);
    }

    [Theory]
    [InlineData(new int[0], 16, "prompt must hold at least one token")]
    [InlineData(new[] { 256, 512 }, 16, "prompt token 1 is id 512")]
    [InlineData(new[] { 256, -1 }, 16, "prompt token 1 is id -1")]
    [InlineData(new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 16, "maxBatchTokens 8")]
    [InlineData(new[] { 256 }, 0, "max_tokens")]
    public void Submit_BadRequest_IsRefusedNamingTheField(int[] prompt, int maxTokens, string message)
    {
        var batcher = Batcher(new SchedulerOptions { MaxBatchTokens = 8 });

        var error = Assert.Throws<ArgumentException>(() => batcher.Submit(new GenerationRequest(prompt, new SamplingOptions { MaxTokens = maxTokens }), CancellationToken.None));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _metrics.QueueDepth.Value);
    }

    [Fact]
    public void Submit_PromptFillingTheContext_IsRefusedNamingMaxPositionEmbeddings()
    {
        var batcher = Batcher(new SchedulerOptions { MaxBatchTokens = 4096 });

        var error = Assert.Throws<ArgumentException>(() => batcher.Submit(Greedy(1, [.. Enumerable.Repeat(5, Config.MaxPositionEmbeddings)]), CancellationToken.None));

        Assert.Contains("max_position_embeddings", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1, 1, "maxBatchTokens")]
    [InlineData(1, 0, 1, "maxConcurrentRequests")]
    [InlineData(1, 1, 0, "maxQueuedRequests")]
    public void Options_OutOfRange_AreRefusedNamingTheField(int maxBatchTokens, int maxConcurrentRequests, int maxQueuedRequests, string field)
    {
        var options = new SchedulerOptions { MaxBatchTokens = maxBatchTokens, MaxConcurrentRequests = maxConcurrentRequests, MaxQueuedRequests = maxQueuedRequests };

        var error = Assert.Throws<ArgumentException>(() => Batcher(options));

        Assert.StartsWith(field, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Compares results by value (their token lists are not equal as references).</summary>
    private sealed class GenerationResultComparer : IEqualityComparer<GenerationResult>
    {
        public static GenerationResultComparer Instance { get; } = new();

        public bool Equals(GenerationResult? x, GenerationResult? y) =>
            x is not null && y is not null && x.Reason == y.Reason && x.Tokens.SequenceEqual(y.Tokens);

        public int GetHashCode(GenerationResult obj) => obj.Reason.GetHashCode();
    }

    /// <summary>Runs the real experts, except that the first call throws <paramref name="failure"/>: a shard that did not answer once.</summary>
    private sealed class FailOnceExperts(IExpertExecutor inner, Exception failure) : IExpertExecutor
    {
        private int _failed;

        public ValueTask<Tensor> ForwardAsync(int layer, Tensor hidden, ExpertAssignments assignments, CancellationToken cancellationToken) =>
            Interlocked.Exchange(ref _failed, 1) == 0
                ? ValueTask.FromException<Tensor>(failure)
                : inner.ForwardAsync(layer, hidden, assignments, cancellationToken);
    }
}
