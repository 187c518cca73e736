namespace DeepSeekOperator.Cli.Tests;

public sealed class ShardCommandTests
{
    [Theory]
    [InlineData("--shard-index", "--synthetic", "tiny", "--shards", "2")]
    [InlineData("--shard-index 2 is not a shard of --shards 2 (0 to 1)", "--synthetic", "tiny", "--shards", "2", "--shard-index", "2")]
    [InlineData("give exactly one of --model DIR and --synthetic tiny|small", "--shards", "2", "--shard-index", "0")]
    [InlineData("give exactly one of --model DIR and --synthetic tiny|small", "--model", "m", "--synthetic", "tiny", "--shards", "2", "--shard-index", "0")]
    [InlineData("give exactly one of --placement FILE and --shards N", "--synthetic", "tiny", "--shard-index", "0")]
    [InlineData("--shards must be at least 1, got 0", "--synthetic", "tiny", "--shards", "0", "--shard-index", "0")]
    [InlineData("--slots-per-shard applies only with --shards", "--synthetic", "tiny", "--placement", "p.json", "--slots-per-shard", "9", "--shard-index", "0")]
    [InlineData("--seed and --skew apply only to --synthetic models", "--model", "m", "--seed", "3", "--shards", "2", "--shard-index", "0")]
    [InlineData("--skew must be a number of at least 0, got -1", "--synthetic", "tiny", "--skew", "-1", "--shards", "2", "--shard-index", "0")]
    [InlineData("--port must be between 0 and 65535, got 70000", "--synthetic", "tiny", "--shards", "2", "--shard-index", "0", "--port", "70000")]
    [InlineData("--port and --metrics-port must differ, both are 9000", "--synthetic", "tiny", "--shards", "2", "--shard-index", "0", "--metrics-port", "9000")]
    [InlineData("--bind \"localhost\" is not an IP address", "--synthetic", "tiny", "--shards", "2", "--shard-index", "0", "--bind", "localhost")]
    [InlineData("huge", "--synthetic", "huge", "--shards", "2", "--shard-index", "0")]
    public async Task BadOptions_AreAUsageErrorNamingTheOption(string message, params string[] options)
    {
        var (exitCode, output, error) = await DsopRunner.RunAsync(["shard", .. options]);

        Assert.Equal(Dsop.UsageError, exitCode);
        Assert.Empty(output);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains("Run 'dsop shard --help' for usage.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlacementFileThatDoesNotExist_FailsNamingIt()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"dsop-missing-{Guid.NewGuid():N}", "placement.json");

        var (exitCode, _, error) = await DsopRunner.RunAsync("shard", "--synthetic", "tiny", "--placement", missing, "--shard-index", "0", "--port", "0", "--metrics-port", "0", "--bind", "127.0.0.1");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("dsop: cannot start expert shard 0: ", error, StringComparison.Ordinal);
        Assert.Contains(Path.GetDirectoryName(missing)!, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServesUntilCancelled_PrintingItsPortsThenStopsCleanly()
    {
        using var output = new LineWriter("expert shard ");
        using var error = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = Dsop.RunAsync(["shard", "--synthetic", "tiny", "--shards", "2", "--shard-index", "1", "--port", "0", "--metrics-port", "0", "--bind", "127.0.0.1"], output, error, stop.Token);

        var line = await output.Seen.WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();

        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Matches(@"^expert shard 1 of 2 \(placement revision 1\): gRPC on 127\.0\.0\.1:\d+, metrics on 127\.0\.0\.1:\d+$", line);
    }
}
