using System.Diagnostics;
using DeepSeekOperator.Controller.Hosting;

namespace DeepSeekOperator.Controller.Tests.Hosting;

public sealed class LeaderFailoverTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task LeaderStopped_LeaseReleased_StandbyTakesOverLongBeforeItWouldExpire()
    {
        await using var operators = await Operators.StartAsync();
        // A lease of 6 s: a takeover within 3 s can only come from the release.
        static OperatorHostOptions SlowExpiry(OperatorHostOptions options) => options with { LeaseDuration = TimeSpan.FromSeconds(6), RenewDeadline = TimeSpan.FromSeconds(3) };
        var (a, b) = await operators.StartLeaderThenStandbyAsync(SlowExpiry, SlowExpiry);

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        await Operators.LeaderAsync(TimeSpan.FromSeconds(3), b);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"took over after {clock.Elapsed}");
        await operators.StampedAsync("one", "operator-b", Patience);
        Assert.Equal("operator-b", await operators.HolderAsync());
        await a.Completion.WaitAsync(Patience);
    }

    [Fact]
    public async Task LeaderKilledWithoutRelease_StandbyTakesOverOnceTheLeaseExpires()
    {
        await using var operators = await Operators.StartAsync();
        var (a, b) = await operators.StartLeaderThenStandbyAsync(options => options with { ReleaseOnStop = false });

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        Assert.Equal("operator-a", await operators.HolderAsync());
        await Operators.LeaderAsync(Patience, b);

        // The lease lasts 2 s from the last renewal b saw, which was at most a retry or two before a stopped.
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1), $"took over after only {clock.Elapsed}");
        await operators.StampedAsync("one", "operator-b", Patience);
        Assert.Equal("operator-b", await operators.HolderAsync());
    }

    [Fact]
    public async Task DefaultTimings_LeaderKilledWithoutRelease_StandbyTakesOverWithin20Seconds()
    {
        await using var operators = await Operators.StartAsync();
        var defaults = new OperatorHostOptions();
        OperatorHostOptions AsDeployed(OperatorHostOptions options) => options with
        {
            LeaseDuration = defaults.LeaseDuration,
            RenewDeadline = defaults.RenewDeadline,
            RetryPeriod = defaults.RetryPeriod,
            ReleaseOnStop = false,
        };
        var (a, b) = await operators.StartLeaderThenStandbyAsync(AsDeployed, AsDeployed);

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        await Operators.LeaderAsync(TimeSpan.FromSeconds(25), b);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took over after {clock.Elapsed}");
        await operators.StampedAsync("one", "operator-b", Patience);
    }
}
