using System.Diagnostics;

namespace DeepSeekOperator.Controller.Tests.Hosting;

public sealed class LeaderFailoverTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task LeaderStopped_LeaseReleased_StandbyTakesOverLongBeforeItWouldExpire()
    {
        await using var operators = await Operators.StartAsync();
        // A lease of 6 s: a takeover within 3 s can only come from the release.
        var slowExpiry = (Func<Controller.Hosting.OperatorHostOptions, Controller.Hosting.OperatorHostOptions>)(options => options with { LeaseDuration = TimeSpan.FromSeconds(6), RenewDeadline = TimeSpan.FromSeconds(3) });
        var a = await operators.StartHostAsync("operator-a", slowExpiry);
        await Operators.LeaderAsync(Patience, a);
        var b = await operators.StartHostAsync("operator-b", slowExpiry);
        await operators.CreateConfigMapAsync("one");
        await operators.StampedAsync("one", "operator-a", Patience);

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
        var a = await operators.StartHostAsync("operator-a", options => options with { ReleaseOnStop = false });
        await Operators.LeaderAsync(Patience, a);
        var b = await operators.StartHostAsync("operator-b");
        await operators.CreateConfigMapAsync("one");
        await operators.StampedAsync("one", "operator-a", Patience);

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        Assert.Equal("operator-a", await operators.HolderAsync());
        await Operators.LeaderAsync(Patience, b);

        // The lease lasts 2 s from the last renewal b saw, which was at most a retry or two before a stopped.
        Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1), $"took over after only {clock.Elapsed}");
        await operators.StampedAsync("one", "operator-b", Patience);
        Assert.Equal("operator-b", await operators.HolderAsync());
    }
}
