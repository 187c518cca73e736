using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using DeepSeekOperator.Serving.Discovery;

namespace DeepSeekOperator.Serving.Tests.Discovery;

public sealed class DnsShardResolverTests : IDisposable
{
    private static readonly DnsShardResolverOptions Options = new() { Model = "tiny", Namespace = "serving", Shards = 2, Port = 9000, Interval = TimeSpan.FromSeconds(5) };
    private readonly ConcurrentDictionary<string, Func<IPAddress[]>> records = new();
    private readonly ConcurrentQueue<string> lookedUp = new();
    private readonly ManualTime time = new();
    private readonly RecordingLogger<DnsShardResolver> logger = new();
    private readonly CancellationTokenSource stop = new();
    private Task running = Task.CompletedTask;

    public void Dispose()
    {
        stop.Cancel();
        stop.Dispose();
    }

    private DnsShardResolver Start(DnsShardResolverOptions options)
    {
        var resolver = new DnsShardResolver(options, logger, time, (name, _) =>
        {
            lookedUp.Enqueue(name);
            return records.TryGetValue(name, out var answer)
                ? Task.FromResult(answer())
                : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
        });
        running = resolver.RunAsync(stop.Token);
        return resolver;
    }

    private void Answer(string name, params string[] addresses) => records[name] = () => [.. addresses.Select(IPAddress.Parse)];

    private static ShardEndpoints Expected(params string[][] shards) =>
        new(shards.Select(s => s.Select(a => new ShardEndpoint(a, 9000))));

    [Fact]
    public async Task RunAsync_LooksUpEachShardsServiceName_AndPublishesItsAddressesWithThePort()
    {
        Answer("tiny-shard-0.serving.svc", "10.0.0.2", "10.0.0.1");
        Answer("tiny-shard-1.serving.svc", "10.0.1.1");

        var resolver = Start(Options);
        var endpoints = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e.IsReady);

        Assert.Equal(Expected(["10.0.0.1", "10.0.0.2"], ["10.0.1.1"]), endpoints);
        Assert.True(logger.Warnings.Count == 0, string.Join(Environment.NewLine, logger.Warnings));
    }

    [Fact]
    public async Task RunAsync_AfterTheInterval_LooksUpAgainAndPublishesTheChange()
    {
        Answer("tiny-shard-0.serving.svc", "10.0.0.1");
        Answer("tiny-shard-1.serving.svc", "10.0.1.1");
        var resolver = Start(Options);
        await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e.IsReady);

        Answer("tiny-shard-1.serving.svc", "10.0.1.1", "10.0.1.2");
        await time.AdvanceWhenArmedAsync(Options.Interval);
        var endpoints = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e[1].Count == 2);

        Assert.Equal(Expected(["10.0.0.1"], ["10.0.1.1", "10.0.1.2"]), endpoints);
        Assert.Equal(4, lookedUp.Count);
    }

    [Fact]
    public async Task RunAsync_NameNoLongerExists_ShardHasNoReplicasAndTheSetIsNotReady()
    {
        Answer("tiny-shard-0.serving.svc", "10.0.0.1");
        Answer("tiny-shard-1.serving.svc", "10.0.1.1");
        var resolver = Start(Options);
        await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e.IsReady);

        records.TryRemove("tiny-shard-1.serving.svc", out _);
        await time.AdvanceWhenArmedAsync(Options.Interval);
        var endpoints = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => !e.IsReady);

        Assert.Equal([1], endpoints.ShardsWithoutReplicas);
        Assert.True(logger.Warnings.Count == 0, string.Join(Environment.NewLine, logger.Warnings));
    }

    [Fact]
    public async Task RunAsync_LookupFailsOtherwise_KeepsTheShardsReplicasAndLogsWhy()
    {
        Answer("tiny-shard-0.serving.svc", "10.0.0.1");
        Answer("tiny-shard-1.serving.svc", "10.0.1.1");
        var resolver = Start(Options);
        await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e.IsReady);

        records["tiny-shard-1.serving.svc"] = () => throw new SocketException((int)SocketError.TryAgain);
        Answer("tiny-shard-0.serving.svc", "10.0.0.9");
        await time.AdvanceWhenArmedAsync(Options.Interval);
        var endpoints = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e[0][0].Host == "10.0.0.9");

        Assert.Equal(Expected(["10.0.0.9"], ["10.0.1.1"]), endpoints);
        Assert.Contains("Looking up tiny-shard-1.serving.svc for shard 1 failed", Assert.Single(logger.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RealLookupOfLocalhost_FindsLoopbackAddresses()
    {
        var resolver = new DnsShardResolver(Options with { Shards = 1, HostNameTemplate = "localhost" }, logger);
        _ = resolver.RunAsync(stop.Token);

        var endpoints = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e.IsReady);

        Assert.All(endpoints[0], e => Assert.True(IPAddress.IsLoopback(IPAddress.Parse(e.Host)), $"{e} is not a loopback address"));
        Assert.All(endpoints[0], e => Assert.Equal(9000, e.Port));
    }

    [Fact]
    public async Task RunAsync_CancelledWhileWaitingForTheInterval_Returns()
    {
        Start(Options);
        await time.AdvanceWhenArmedAsync(TimeSpan.Zero);

        await stop.CancelAsync();

        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public static TheoryData<DnsShardResolverOptions, string> BadOptions() => new()
    {
        { Options with { Model = "" }, "model must not be empty (Parameter 'Model')" },
        { Options with { Namespace = " " }, "namespace must not be empty (Parameter 'Namespace')" },
        { Options with { Shards = 0 }, "shards must be at least 1, got 0 (Parameter 'Shards')" },
        { Options with { Port = 0 }, "port must be in [1, 65535], got 0 (Parameter 'Port')" },
        { Options with { Interval = TimeSpan.Zero }, "interval must be positive, got 00:00:00 (Parameter 'Interval')" },
        { Options with { HostNameTemplate = "shards.svc" }, "hostNameTemplate 'shards.svc' must contain {shard} when there are 2 shards (Parameter 'HostNameTemplate')" },
        { Options with { HostNameTemplate = "{model} {shard}" }, "hostNameTemplate gives 'tiny 0' for shard 0, not a DNS name (Parameter 'HostNameTemplate')" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Constructor_BadOption_FailsNamingTheOption(DnsShardResolverOptions options, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new DnsShardResolver(options, logger, time));

        Assert.Equal(message, error.Message);
    }
}
