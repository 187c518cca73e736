using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Runtime;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Tests.Hosting;

public sealed class OperatorHostTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TwoHosts_OneLeads_AndOnlyTheLeaderReconciles()
    {
        await using var operators = await Operators.StartAsync();
        var a = await operators.StartHostAsync("operator-a");
        var b = await operators.StartHostAsync("operator-b");

        var leader = await Operators.LeaderAsync(Patience, a, b);
        var standby = leader == a ? b : a;
        await operators.CreateConfigMapAsync("one");
        await operators.StampedAsync("one", leader.Identity, Patience);

        Assert.Equal(leader.Identity, await operators.HolderAsync());
        Assert.Equal("default/deepseek-operator", leader.Lease);
        Assert.False(standby.IsLeader);
        Assert.Equal(1, await Operators.MetricAsync(leader, "dsop_leader"));
        Assert.Equal(0, await Operators.MetricAsync(standby, "dsop_leader"));
        Assert.True(await Operators.MetricAsync(leader, """dsop_reconcile_total{controller="test",result="success"}""") >= 1);
        Assert.Null(await Operators.MetricAsync(standby, """dsop_reconcile_total{controller="test",result="success"}"""));
    }

    [Fact]
    public async Task Probes_LeaderAndStandby_AliveAndReady()
    {
        await using var operators = await Operators.StartAsync();
        var (leader, standby) = await operators.StartLeaderThenStandbyAsync();

        // The standby names the leader once it has read the lease.
        await Operators.EventuallyAsync(async () => (await Operators.GetAsync(standby, "/readyz")).Body.EndsWith(leader.Identity, StringComparison.Ordinal), Patience, "the leader seen");
        await Operators.EventuallyAsync(async () => (await Operators.GetAsync(leader, "/readyz")).Status == 200, Patience, "leader ready");
        foreach (var host in new[] { leader, standby })
        {
            Assert.Equal((200, "alive"), await Operators.GetAsync(host, "/healthz"));
        }

        Assert.Equal((200, "leading; the caches have synced"), await Operators.GetAsync(leader, "/readyz"));
        Assert.Equal((200, $"standing by; the lease is held by {leader.Identity}"), await Operators.GetAsync(standby, "/readyz"));
        var (status, metrics) = await Operators.GetAsync(leader, "/metrics");
        Assert.Equal(200, status);
        Assert.Contains("# TYPE dsop_reconcile_time_seconds histogram", metrics, StringComparison.Ordinal);
        Assert.Contains("""dsop_workqueue_depth{controller="test"} 0""", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leader_CachesNotSynced_ReadyzAnswers503UntilTheySync()
    {
        await using var operators = await Operators.StartAsync();
        var cache = new GatedInformer();
        var host = await operators.StartHostAsync("operator-a", controller: (_, loggers, registry) =>
        {
            var queue = new WorkQueue<ObjectKey>(TimeProvider.System, new ExponentialRateLimiter<ObjectKey>());
            var controller = new ReconcileController(new IdleReconciler(), queue, [cache], new ControllerOptions { Name = "idle" }, registry, TimeProvider.System, loggers.CreateLogger<ReconcileController>());
            return new ManagedController(controller, [cache]);
        });

        await Operators.LeaderAsync(Patience, host);
        await cache.Running.Task.WaitAsync(Patience);
        Assert.Equal((503, "leading; waiting for the caches to sync"), await Operators.GetAsync(host, "/readyz"));

        cache.Sync();
        Assert.Equal((200, "leading; the caches have synced"), await Operators.GetAsync(host, "/readyz"));
    }

    [Fact]
    public async Task ControllerFactoryThrows_HostStopsWithItsError()
    {
        await using var operators = await Operators.StartAsync();
        var host = await operators.StartHostAsync("operator-a", controller: (_, _, _) => throw new InvalidDataException("no CRD"));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => host.Completion.WaitAsync(Patience));

        Assert.Equal("no CRD", error.Message);
        Assert.False(host.IsLeader);
        Assert.Equal((503, "stopping"), await Operators.GetAsync(host, "/readyz"));
    }

    [Fact]
    public async Task StartAsync_NoControllers_Rejected()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => OperatorHost.StartAsync(Operators.Fast, []));

        Assert.Equal("controllers", error.ParamName);
    }

    private sealed class IdleReconciler : IReconciler
    {
        public Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken) => Task.FromResult(ReconcileResult.Done);
    }

    // A cache that syncs when the test says so.
    private sealed class GatedInformer : IInformer
    {
        private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Running { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool HasSynced => synced.Task.IsCompleted;

        public Task WaitForSyncAsync(CancellationToken cancellationToken) => synced.Task.WaitAsync(cancellationToken);

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            Running.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }

        public void Sync() => synced.SetResult();
    }
}
