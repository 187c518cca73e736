using System.Globalization;
using System.Text;
using System.Threading.Channels;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.Serving.Tests.Discovery;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Runtime;

public sealed class ReconcileControllerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly ObjectKey Key = new("models", "tiny");

    [Fact]
    public async Task FailingReconciler_RetriedAfterDoublingBackoff_AndCountedInMetrics()
    {
        var time = new ManualTime();
        var attempts = Channel.CreateUnbounded<int>();
        var count = 0;
        var reconciler = new DelegateReconciler((_, _) =>
        {
            var attempt = Interlocked.Increment(ref count);
            attempts.Writer.TryWrite(attempt);
            return attempt switch
            {
                1 => throw new InvalidOperationException("boom"),
                < 4 => Task.FromResult(ReconcileResult.Failed("not yet")),
                _ => Task.FromResult(ReconcileResult.Done),
            };
        });
        using var queue = new WorkQueue<ObjectKey>(time, new ExponentialRateLimiter<ObjectKey>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000), 0));
        var registry = Metrics.NewCustomRegistry();
        var controller = NewController(reconciler, queue, registry, time);
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);

        queue.Add(Key);
        Assert.Equal(1, await NextAsync(attempts));
        foreach (var backoff in new[] { 5, 10, 20 })
        {
            await time.AdvanceWhenArmedAsync(TimeSpan.FromMilliseconds(backoff - 1));
            Assert.Equal(0, queue.Count);
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(backoff switch { 5 => 2, 10 => 3, _ => 4 }, await NextAsync(attempts));
        }

        await stop.CancelAsync();
        await run.WaitAsync(Patience);
        var metrics = await ScrapeAsync(registry);
        Assert.Equal(3, Value(metrics, """dsop_reconcile_total{controller="test",result="error"}"""));
        Assert.Equal(1, Value(metrics, """dsop_reconcile_total{controller="test",result="success"}"""));
        Assert.Equal(3, Value(metrics, """dsop_reconcile_errors_total{controller="test"}"""));
        Assert.Equal(4, Value(metrics, """dsop_reconcile_time_seconds_count{controller="test"}"""));
        Assert.Equal(0, Value(metrics, """dsop_workqueue_depth{controller="test"}"""));
        Assert.Equal(0, queue.RateLimiter.NumRequeues(Key));
    }

    [Fact]
    public async Task ManyWorkers_KeyAddedWhileReconciled_NeverReconciledConcurrently()
    {
        var inFlight = new Dictionary<ObjectKey, int>();
        var overlaps = 0;
        var total = 0;
        var gate = new Lock();
        var reconciler = new DelegateReconciler(async (key, ct) =>
        {
            lock (gate)
            {
                overlaps += inFlight.GetValueOrDefault(key) > 0 ? 1 : 0;
                inFlight[key] = inFlight.GetValueOrDefault(key) + 1;
            }

            await Task.Delay(1, ct);
            lock (gate)
            {
                inFlight[key]--;
                total++;
            }

            return ReconcileResult.Done;
        });
        using var queue = new WorkQueue<ObjectKey>(TimeProvider.System, new ExponentialRateLimiter<ObjectKey>());
        var controller = NewController(reconciler, queue, Metrics.NewCustomRegistry(), TimeProvider.System, workers: 8);
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);

        for (var i = 0; i < 2000; i++)
        {
            queue.Add(new ObjectKey("models", "m" + (i % 3)));
            if (i % 50 == 0)
            {
                await Task.Yield();
            }
        }

        await stop.CancelAsync();
        await run.WaitAsync(Patience);
        Assert.Equal(0, overlaps);
        Assert.True(total >= 3, $"only {total} reconciles");
    }

    [Fact]
    public async Task RunAsync_CacheNotSynced_FirstReconcileWaitsForIt()
    {
        var cache = new ManualCache();
        var reconciled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconciler = new DelegateReconciler((_, _) =>
        {
            reconciled.TrySetResult(cache.HasSynced);
            return Task.FromResult(ReconcileResult.Done);
        });
        using var queue = new WorkQueue<ObjectKey>(TimeProvider.System, new ExponentialRateLimiter<ObjectKey>());
        var controller = new ReconcileController(reconciler, queue, [cache], new ControllerOptions { Name = "test" }, Metrics.NewCustomRegistry(), TimeProvider.System, NullLogger<ReconcileController>.Instance);
        using var stop = new CancellationTokenSource();
        queue.Add(Key);

        var run = controller.RunAsync(stop.Token);
        await cache.Waited.Task.WaitAsync(Patience);
        await Task.Yield();
        cache.Sync();

        Assert.True(await reconciled.Task.WaitAsync(Patience));
        await stop.CancelAsync();
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task Shutdown_ReconcileInFlight_WaitsForItToFinishUncancelled()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawCancellation = false;
        var reconciler = new DelegateReconciler(async (_, ct) =>
        {
            started.TrySetResult();
            await release.Task;
            sawCancellation = ct.IsCancellationRequested;
            return ReconcileResult.Done;
        });
        using var queue = new WorkQueue<ObjectKey>(TimeProvider.System, new ExponentialRateLimiter<ObjectKey>());
        var controller = NewController(reconciler, queue, Metrics.NewCustomRegistry(), TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);
        queue.Add(Key);
        await started.Task.WaitAsync(Patience);

        await stop.CancelAsync();
        queue.Add(new ObjectKey("models", "after-stop"));
        Assert.False(run.IsCompleted);
        release.SetResult();

        await run.WaitAsync(Patience);
        Assert.False(sawCancellation);
        Assert.True(queue.IsShuttingDown);
    }

    [Fact]
    public async Task Shutdown_ReconcileOutlastsTimeout_IsCancelledAfterIt()
    {
        var time = new ManualTime();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconciler = new DelegateReconciler(async (_, ct) =>
        {
            started.TrySetResult();
            using var registration = ct.Register(cancelled.SetResult);
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            return ReconcileResult.Done;
        });
        using var queue = new WorkQueue<ObjectKey>(time, new ExponentialRateLimiter<ObjectKey>());
        var controller = NewController(reconciler, queue, Metrics.NewCustomRegistry(), time);
        using var stop = new CancellationTokenSource();
        var run = controller.RunAsync(stop.Token);
        queue.Add(Key);
        await started.Task.WaitAsync(Patience);

        await stop.CancelAsync();
        await time.AdvanceWhenArmedAsync(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
        Assert.False(cancelled.Task.IsCompleted);
        time.Advance(TimeSpan.FromTicks(1));

        await cancelled.Task.WaitAsync(Patience);
        await run.WaitAsync(Patience);
    }

    [Fact]
    public async Task TwoControllersOfOneRegistry_EachCountedUnderItsControllerLabel()
    {
        var time = new ManualTime();
        var registry = Metrics.NewCustomRegistry();
        using var firstQueue = new WorkQueue<ObjectKey>(time, new ExponentialRateLimiter<ObjectKey>(TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(1000), 0));
        using var secondQueue = new WorkQueue<ObjectKey>(time, new ExponentialRateLimiter<ObjectKey>());
        var attempts = Channel.CreateUnbounded<int>();
        var first = NewController(new DelegateReconciler((_, _) =>
        {
            attempts.Writer.TryWrite(1);
            return Task.FromResult(ReconcileResult.Failed("not yet"));
        }), firstQueue, registry, time, name: "first");
        _ = NewController(new DelegateReconciler((_, _) => Task.FromResult(ReconcileResult.Done)), secondQueue, registry, time, name: "second");
        secondQueue.Add(Key);
        secondQueue.Add(new ObjectKey("models", "other"));
        using var stop = new CancellationTokenSource();
        var run = first.RunAsync(stop.Token);

        firstQueue.Add(Key);
        await NextAsync(attempts);
        await stop.CancelAsync();
        await run.WaitAsync(Patience);

        var metrics = await ScrapeAsync(registry);
        Assert.Equal(1, Value(metrics, """dsop_reconcile_total{controller="first",result="error"}"""));
        Assert.Equal(1, Value(metrics, """dsop_reconcile_errors_total{controller="first"}"""));
        Assert.Equal(0, Value(metrics, """dsop_reconcile_errors_total{controller="second"}"""));
        Assert.Equal(0, Value(metrics, """dsop_reconcile_time_seconds_count{controller="second"}"""));
        Assert.Equal(2, Value(metrics, """dsop_workqueue_depth{controller="second"}"""));
    }

    [Theory]
    [InlineData("")]
    [InlineData("DeepSeekModel")]
    [InlineData("deep_seek")]
    public void ControllerName_NotALowercaseLabel_RefusedNamingTheOption(string name)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ControllerOptions { Name = name }.Validate());

        Assert.Equal("Name", error.ParamName);
    }

    private static ReconcileController NewController(IReconciler reconciler, WorkQueue<ObjectKey> queue, CollectorRegistry registry, TimeProvider time, int workers = 2, string name = "test") =>
        new(reconciler, queue, [], new ControllerOptions { Name = name, Workers = workers, ShutdownTimeout = TimeSpan.FromSeconds(10) }, registry, time, NullLogger<ReconcileController>.Instance);

    private static async Task<int> NextAsync(Channel<int> attempts)
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await attempts.Reader.ReadAsync(timeout.Token);
    }

    private static async Task<string> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static double Value(string metrics, string series)
    {
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"{series} not exported:\n{metrics}");
        return double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private sealed class DelegateReconciler(Func<ObjectKey, CancellationToken, Task<ReconcileResult>> reconcile) : IReconciler
    {
        public Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken) => reconcile(key, cancellationToken);
    }

    private sealed class ManualCache : ISyncedCache
    {
        private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Waited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool HasSynced => synced.Task.IsCompleted;

        public Task WaitForSyncAsync(CancellationToken cancellationToken)
        {
            Waited.TrySetResult();
            return synced.Task.WaitAsync(cancellationToken);
        }

        public void Sync() => synced.SetResult();
    }
}
