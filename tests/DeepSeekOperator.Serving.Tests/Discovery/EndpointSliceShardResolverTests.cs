using System.Security.Cryptography.X509Certificates;
using DeepSeekOperator.DevCluster;
using DeepSeekOperator.Serving.Discovery;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Serving.Tests.Discovery;

/// <summary>The EndpointSlice resolver against the dev cluster's API server, through the official client.</summary>
public sealed class EndpointSliceShardResolverTests : IAsyncLifetime, IDisposable
{
    private const string Namespace = "default";
    private static readonly EndpointSliceShardResolverOptions Options = new() { Model = "tiny", Namespace = Namespace, Shards = 2, PortName = "grpc" };
    private readonly RecordingLogger<EndpointSliceShardResolver> logger = new();
    private readonly CancellationTokenSource stop = new();
    private ApiServer server = null!;
    private Kubernetes client = null!;
    private Task running = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        // No bookmarks: a resumed watch starts from the last slice event, so a compaction expires it.
        server = await ApiServer.StartAsync(new ApiServerOptions { BookmarkInterval = TimeSpan.FromHours(1) });
        client = new Kubernetes(new KubernetesClientConfiguration
        {
            Host = server.HttpsUri.ToString(),
            AccessToken = server.Token,
            SslCaCerts = [X509Certificate2.CreateFromPem(server.CertificateAuthorityPem)],
        });
    }

    public async Task DisposeAsync()
    {
        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));

        // Closing the client's connections first lets the server stop without waiting out open requests.
        client.Dispose();
        await server.DisposeAsync();
    }

    public void Dispose()
    {
        stop.Dispose();
        client.Dispose();
    }

    private EndpointSliceShardResolver Start(EndpointSliceShardResolverOptions options)
    {
        var resolver = new EndpointSliceShardResolver(client, options, logger);
        running = resolver.RunAsync(stop.Token);
        return resolver;
    }

    private static V1EndpointSlice Slice(string name, string service, params (string Address, bool? Ready)[] endpoints) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service } },
        AddressType = "IPv4",
        Endpoints = [.. endpoints.Select(e => new V1Endpoint { Addresses = [e.Address], Conditions = new V1EndpointConditions { Ready = e.Ready } })],
        Ports = [new Discoveryv1EndpointPort { Name = "metrics", Port = 9100 }, new Discoveryv1EndpointPort { Name = "grpc", Port = 9000 }],
    };

    private Task<V1EndpointSlice> CreateAsync(V1EndpointSlice slice) => client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(slice, Namespace);

    [Fact]
    public async Task Slices_CreatedMadeNotReadyAndDeleted_ResolverFollowsCountingOnlyReadyEndpoints()
    {
        var resolver = Start(Options);
        await CreateAsync(Slice("tiny-shard-0-a", "tiny-shard-0", ("10.0.0.1", null), ("10.0.0.2", true), ("10.0.0.3", false)));
        await CreateAsync(Slice("tiny-shard-0-b", "tiny-shard-0", ("10.0.0.4", true)));
        await CreateAsync(Slice("tiny-shard-1-a", "tiny-shard-1", ("10.0.1.1", true)));
        await CreateAsync(Slice("other-a", "other", ("10.0.9.9", true)));

        var ready = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e[0].Count == 3 && e.IsReady);
        Assert.Equal("0: 10.0.0.1:9000, 10.0.0.2:9000, 10.0.0.4:9000; 1: 10.0.1.1:9000", ready.ToString());

        var shard1 = await client.DiscoveryV1.ReadNamespacedEndpointSliceAsync("tiny-shard-1-a", Namespace);
        shard1.Endpoints[0].Conditions.Ready = false;
        await client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(shard1, "tiny-shard-1-a", Namespace);
        var notReady = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => !e.IsReady);
        Assert.Equal("0: 10.0.0.1:9000, 10.0.0.2:9000, 10.0.0.4:9000; 1: none", notReady.ToString());

        await client.DiscoveryV1.DeleteNamespacedEndpointSliceAsync("tiny-shard-0-a", Namespace);
        var deleted = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e[0].Count == 1);
        Assert.Equal("0: 10.0.0.4:9000; 1: none", deleted.ToString());
        Assert.True(logger.Warnings.Count == 0, string.Join(Environment.NewLine, logger.Warnings));
    }

    [Fact]
    public async Task RunAsync_SlicesThatExistBeforehand_AreListed()
    {
        await CreateAsync(Slice("tiny-shard-0-a", "tiny-shard-0", ("10.0.0.1", true)));
        await CreateAsync(Slice("tiny-shard-1-a", "tiny-shard-1", ("10.0.1.1", true)));

        var resolver = Start(Options);
        var endpoints = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e.IsReady);

        Assert.Equal("0: 10.0.0.1:9000; 1: 10.0.1.1:9000", endpoints.ToString());
    }

    [Fact]
    public async Task WatchExpiredByCompaction_ResolverListsAgainAndKeepsFollowing()
    {
        var resolver = Start(Options with { WatchTimeout = TimeSpan.FromSeconds(1) });
        await CreateAsync(Slice("tiny-shard-0-a", "tiny-shard-0", ("10.0.0.1", true)));
        await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e[0].Count == 1);

        // Writes the watch does not see move the revision past its last event; compacting there expires it.
        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "unrelated" } }, Namespace);
        server.Compact();
        await logger.WaitForAsync("expired (410 Gone); listing again");
        await CreateAsync(Slice("tiny-shard-1-a", "tiny-shard-1", ("10.0.1.1", true)));
        var endpoints = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e.IsReady);

        Assert.Equal("0: 10.0.0.1:9000; 1: 10.0.1.1:9000", endpoints.ToString());
        Assert.True(logger.Warnings.Count == 0, string.Join(Environment.NewLine, logger.Warnings));
    }

    [Fact]
    public async Task Slice_WithoutTheNamedPort_ContributesNoReplicas()
    {
        var resolver = Start(Options with { PortName = "admin" });
        await CreateAsync(Slice("tiny-shard-0-a", "tiny-shard-0", ("10.0.0.1", true)));
        var admin = Slice("tiny-shard-1-a", "tiny-shard-1", ("10.0.1.1", true));
        admin.Ports = [new Discoveryv1EndpointPort { Name = "admin", Port = 7000 }];
        await CreateAsync(admin);

        var endpoints = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), e => e[1].Count == 1);

        Assert.Equal("0: none; 1: 10.0.1.1:7000", endpoints.ToString());
    }

    public static TheoryData<EndpointSliceShardResolverOptions, string> BadOptions() => new()
    {
        { Options with { Model = "" }, "model must not be empty (Parameter 'Model')" },
        { Options with { Namespace = "" }, "namespace must not be empty (Parameter 'Namespace')" },
        { Options with { Shards = -1 }, "shards must be at least 1, got -1 (Parameter 'Shards')" },
        { Options with { PortName = "" }, "portName must not be empty; leave it unset to take a slice's only port (Parameter 'PortName')" },
        { Options with { WatchTimeout = TimeSpan.FromMilliseconds(10) }, "watchTimeout must be at least 1 s, got 00:00:00.0100000 (Parameter 'WatchTimeout')" },
        { Options with { RetryDelay = TimeSpan.Zero }, "retryDelay must be positive, got 00:00:00 (Parameter 'RetryDelay')" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Constructor_BadOption_FailsNamingTheOption(EndpointSliceShardResolverOptions options, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new EndpointSliceShardResolver(client, options, logger));

        Assert.Equal(message, error.Message);
    }
}
