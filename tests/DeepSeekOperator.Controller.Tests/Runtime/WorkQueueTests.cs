using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.Serving.Tests.Discovery;

namespace DeepSeekOperator.Controller.Tests.Runtime;

public sealed class WorkQueueTests
{
    private static readonly CancellationToken Timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    private static WorkQueue<string> NewQueue(TimeProvider? time = null) =>
        new(time ?? new ManualTime(), new ExponentialRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000), 0));

    [Fact]
    public async Task Add_KeyAlreadyQueued_IsHandedOutOnce()
    {
        using var queue = NewQueue();
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");

        Assert.Equal(2, queue.Count);
        Assert.Equal("a", (await queue.GetAsync(Timeout))!.Value.Key);
        Assert.Equal("b", (await queue.GetAsync(Timeout))!.Value.Key);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task Add_WhileKeyIsProcessed_QueuesItAgainOnlyAfterDone()
    {
        using var queue = NewQueue();
        queue.Add("a");
        var item = await queue.GetAsync(Timeout);

        queue.Add("a");
        queue.Add("a");
        Assert.Equal(0, queue.Count);

        queue.Done(item!.Value.Key);
        Assert.Equal(1, queue.Count);
        Assert.Equal("a", (await queue.GetAsync(Timeout))!.Value.Key);
    }

    [Fact]
    public async Task GetAsync_EmptyQueue_WaitsUntilAKeyIsAdded()
    {
        using var queue = NewQueue();
        var waiting = queue.GetAsync(Timeout);
        Assert.False(waiting.IsCompleted);

        queue.Add("a");

        Assert.Equal("a", (await waiting)!.Value.Key);
    }

    [Fact]
    public async Task ConcurrentWorkers_NeverHoldOneKeyAtOnce_AndProcessTheLastAddOfEveryKey()
    {
        using var queue = NewQueue(TimeProvider.System);
        var keys = Enumerable.Range(0, 5).Select(i => "k" + i).ToArray();
        var holders = keys.ToDictionary(k => k, _ => 0);
        var lastAdded = keys.ToDictionary(k => k, _ => 0);
        var lastSeen = keys.ToDictionary(k => k, _ => 0);
        var overlaps = 0;
        var gate = new Lock();

        async Task WorkAsync()
        {
            while (await queue.GetAsync(Timeout) is { Key: var key })
            {
                lock (gate)
                {
                    overlaps += holders[key]++ > 0 ? 1 : 0;
                    lastSeen[key] = lastAdded[key];
                }

                await Task.Yield();
                lock (gate)
                {
                    holders[key]--;
                }

                queue.Done(key);
            }
        }

        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(WorkAsync)).ToArray();
        for (var i = 1; i <= 5000; i++)
        {
            var key = keys[i % keys.Length];
            lock (gate)
            {
                lastAdded[key] = i;
            }

            queue.Add(key);
        }

        queue.ShutDown();
        await Task.WhenAll(workers).WaitAsync(Timeout);

        Assert.Equal(0, overlaps);
        Assert.Equal(lastAdded, lastSeen);
    }

    [Fact]
    public void RateLimiter_RepeatedFailures_DoubleFrom5MillisecondsWithinJitterAndCapAt1000Seconds()
    {
        var limiter = new ExponentialRateLimiter<string>();
        var expected = TimeSpan.FromMilliseconds(5);
        for (var failure = 0; failure < 40; failure++)
        {
            var delay = limiter.When("a");
            var floor = expected < TimeSpan.FromSeconds(1000) ? expected : TimeSpan.FromSeconds(1000);
            Assert.InRange(delay, floor, floor * 1.1 < TimeSpan.FromSeconds(1000) ? floor * 1.1 : TimeSpan.FromSeconds(1000));
            expected *= 2;
        }

        Assert.Equal(TimeSpan.FromSeconds(1000), limiter.When("a"));
        Assert.InRange(limiter.When("b"), TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5.5));
    }

    [Fact]
    public void RateLimiter_Jitter_SpreadsDelaysOfOneFailureCount()
    {
        var delays = Enumerable.Range(0, 50).Select(i =>
        {
            var limiter = new ExponentialRateLimiter<string>(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(100), 0.1, new Random(i));
            return limiter.When("a");
        }).ToHashSet();

        Assert.True(delays.Count > 40, $"only {delays.Count} distinct delays");
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.1)));
    }

    [Fact]
    public void AddRateLimited_OnManualClock_KeyAppearsOnlyAfterEachBackoff()
    {
        var time = new ManualTime();
        using var queue = NewQueue(time);

        foreach (var backoff in new[] { 5, 10, 20, 40 })
        {
            queue.AddRateLimited("a");
            time.Advance(TimeSpan.FromMilliseconds(backoff - 1));
            Assert.Equal(0, queue.Count);
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(1, queue.Count);
            DrainOne(queue);
        }

        Assert.Equal(4, queue.RateLimiter.NumRequeues("a"));
    }

    [Fact]
    public void Forget_AfterFailures_ResetsBackoffTo5Milliseconds()
    {
        var time = new ManualTime();
        using var queue = NewQueue(time);
        for (var i = 0; i < 3; i++)
        {
            queue.RateLimiter.When("a");
        }

        queue.Forget("a");
        queue.AddRateLimited("a");
        time.Advance(TimeSpan.FromMilliseconds(5));

        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void AddAfter_KeyAlreadyWaiting_KeepsTheEarlierDueTime()
    {
        var time = new ManualTime();
        using var queue = NewQueue(time);
        queue.AddAfter("a", TimeSpan.FromSeconds(10));
        queue.AddAfter("a", TimeSpan.FromSeconds(2));
        queue.AddAfter("a", TimeSpan.FromSeconds(5));

        time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.Equal(0, queue.Count);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(1, queue.Count);
        DrainOne(queue);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task ShutDown_QueuedKeysStillHandedOut_ThenNullAndNewKeysIgnored()
    {
        var time = new ManualTime();
        using var queue = NewQueue(time);
        queue.Add("a");
        queue.Add("b");
        queue.AddAfter("c", TimeSpan.FromSeconds(1));

        queue.ShutDown();
        queue.Add("d");
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("a", (await queue.GetAsync(Timeout))!.Value.Key);
        Assert.Equal("b", (await queue.GetAsync(Timeout))!.Value.Key);
        Assert.Null(await queue.GetAsync(Timeout));
    }

    [Fact]
    public async Task ShutDown_WorkerWaitingOnEmptyQueue_GetsNull()
    {
        using var queue = NewQueue();
        var waiting = queue.GetAsync(Timeout);

        queue.ShutDown();

        Assert.Null(await waiting);
    }

    private static void DrainOne(WorkQueue<string> queue)
    {
        var item = queue.GetAsync(CancellationToken.None);
        Assert.True(item.IsCompletedSuccessfully);
        queue.Done(item.Result!.Value.Key);
    }
}
