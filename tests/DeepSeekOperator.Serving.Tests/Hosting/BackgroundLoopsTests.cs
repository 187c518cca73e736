using DeepSeekOperator.Serving.Hosting.Internal;
using DeepSeekOperator.Serving.Tests.Discovery;

namespace DeepSeekOperator.Serving.Tests.Hosting;

public sealed class BackgroundLoopsTests
{
    private readonly RecordingLogger<BackgroundLoopsTests> _log = new();

    [Fact]
    public async Task LoopThatThrows_IsLoggedAtCriticalAndNamedByFailure_AndItsTaskDoesNotFault()
    {
        using var stopping = new CancellationTokenSource();
        var loops = new BackgroundLoops(_log, stopping.Token);

        loops.Start("scheduler", _ => throw new InvalidOperationException("the model was disposed"));
        await loops.WhenAllEnded();

        Assert.Equal("the scheduler stopped: the model was disposed", loops.Failure);
        var logged = Assert.Single(_log.Warnings);
        Assert.StartsWith("The scheduler stopped; /healthz now fails so that the process is restarted: System.InvalidOperationException: the model was disposed", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoopsEndingOnStopping_LeaveNoFailure()
    {
        using var stopping = new CancellationTokenSource();
        var loops = new BackgroundLoops(_log, stopping.Token);
        loops.Start("scheduler", token => Task.Delay(Timeout.Infinite, token));
        loops.Start("shard discovery", _ => Task.CompletedTask);

        await stopping.CancelAsync();
        await loops.WhenAllEnded();

        Assert.Null(loops.Failure);
        Assert.Empty(_log.Warnings);
    }

    [Fact]
    public async Task SecondLoopThatThrows_FailureKeepsTheFirst()
    {
        using var stopping = new CancellationTokenSource();
        var loops = new BackgroundLoops(_log, stopping.Token);

        loops.Start("scheduler", _ => throw new InvalidOperationException("first"));
        await loops.WhenAllEnded();
        loops.Start("remote expert executor", _ => throw new InvalidOperationException("second"));
        await loops.WhenAllEnded();

        Assert.Equal("the scheduler stopped: first", loops.Failure);
        Assert.Equal(2, _log.Warnings.Count);
    }
}
