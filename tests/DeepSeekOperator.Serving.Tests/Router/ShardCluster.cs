using System.Collections.Concurrent;
using System.Net;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Shard;
using DeepSeekOperator.Serving.Tests.Shard;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Serving.Tests.Router;

/// <summary>
/// Expert shards of the tiny synthetic model (seed <see cref="Seed"/>), several replicas each, every replica an
/// in-process Kestrel on its own loopback port (HTTP/2 cleartext). A replica can be stopped and started again on
/// the same port, with another placement revision. Each replica records what it was sent.
/// </summary>
internal sealed class ShardCluster : IAsyncDisposable
{
    public const int Seed = 11;
    public const string ModelId = "tiny-test";

    private readonly Replica[][] _replicas;

    private ShardCluster(Replica[][] replicas)
    {
        _replicas = replicas;
    }

    public static ModelConfig Config => ShardServerFixture.Config;

    /// <summary>Every entry at warning level or above that any replica logged.</summary>
    public ConcurrentQueue<(LogLevel Level, string Category, string Message)> Logged { get; } = new();

    /// <summary>Each shard's replicas, as a resolver would find them.</summary>
    public ShardEndpoints Endpoints => new(_replicas.Select(shard => shard.Select(r => r.Endpoint)));

    /// <summary>Starts <paramref name="replicas"/> replicas of every shard of <paramref name="placement"/>.</summary>
    public static async Task<ShardCluster> StartAsync(ExpertPlacement placement, int replicas)
    {
        var cluster = new ShardCluster([.. Enumerable.Range(0, placement.Shards).Select(s => Enumerable.Range(0, replicas).Select(_ => new Replica(s)).ToArray())]);
        foreach (var replica in cluster._replicas.SelectMany(r => r))
        {
            await replica.StartAsync(placement, cluster.Logged);
        }

        return cluster;
    }

    /// <summary>Every routed expert of the model in this process: what the shards' answers are checked against.</summary>
    public static LocalExpertExecutor AllExperts() =>
        ShardExperts.Synthetic(Config, Seed, new ExpertLocator(PlacementGenerator.Contiguous(Config, ModelId, 1, shards: 1, slotsPerShard: Config.NRoutedExperts), Config), 0);

    public StaticShardResolver Resolver() => new(Endpoints);

    /// <summary>What replica <paramref name="replica"/> of shard <paramref name="shard"/> was sent (kept across restarts).</summary>
    public ReplicaRecord Record(int shard, int replica) => _replicas[shard][replica].Record;

    public ShardEndpoint Endpoint(int shard, int replica) => _replicas[shard][replica].Endpoint;

    public Task StopAsync(int shard, int replica) => _replicas[shard][replica].StopAsync();

    /// <summary>Starts a stopped replica again on its port, serving <paramref name="placement"/> (its revision may differ).</summary>
    public async Task RestartAsync(int shard, int replica, ExpertPlacement placement)
    {
        await _replicas[shard][replica].StopAsync();
        await _replicas[shard][replica].StartAsync(placement, Logged);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas.SelectMany(r => r))
        {
            replica.Record.Release();
            await replica.StopAsync();
        }

        // A refused or cancelled call is no error; an unhandled exception in the shard is.
        Assert.DoesNotContain(Logged, entry => entry.Level >= LogLevel.Error);
    }

    private sealed class Replica(int shard) : IDisposable
    {
        private WebApplication? _app;
        private ShardRevisions? _revisions;
        private int _port;

        public ReplicaRecord Record { get; } = new();

        public ShardEndpoint Endpoint => new(IPAddress.Loopback.ToString(), _port);

        public async Task StartAsync(ExpertPlacement placement, ConcurrentQueue<(LogLevel, string, string)> logged)
        {
            var locator = new ExpertLocator(placement, Config);
            _revisions = new ShardRevisions(new ExpertShardOptions { ShardIndex = shard, Config = Config });
            _revisions.Add(locator, ShardExperts.Synthetic(Config, Seed, locator, shard));
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, _port, listen => listen.Protocols = HttpProtocols.Http2));
            builder.Logging.ClearProviders().AddProvider(new ShardServerFixture.RecordingLoggerProvider(logged));
            builder.Services.AddGrpc(grpc => grpc.Interceptors.Add<RecordingInterceptor>(Record));
            builder.Services.AddSingleton(_revisions);
            builder.Services.AddSingleton(new ShardMetrics(Metrics.NewCustomRegistry()));
            builder.Services.AddSingleton<ExpertShardService>();
            _app = builder.Build();
            _app.MapGrpcService<ExpertShardService>();
            await _app.StartAsync();
            _port = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
        }

        public async Task StopAsync()
        {
            if (_app is not null)
            {
                // Stopping first lets calls in flight finish before the experts they use are freed.
                await _app.StopAsync();
                await _app.DisposeAsync();
                _app = null;
            }

            Dispose();
        }

        /// <summary>Frees the experts; <see cref="StopAsync"/> stops the server first.</summary>
        public void Dispose()
        {
            _revisions?.Dispose();
            _revisions = null;
        }
    }

    private sealed class RecordingInterceptor(ReplicaRecord record) : Interceptor
    {
        public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            if (request is ForwardRequest forward)
            {
                record.Received(forward, [.. context.RequestHeaders.Where(h => h.Key == "traceparent").Select(h => h.Value)]);
                await record.HoldTask.WaitAsync(context.CancellationToken);
            }
            else if (request is GetInfoRequest)
            {
                record.Probed();
            }

            return await continuation(request, context);
        }
    }
}

/// <summary>What one shard replica was sent; it can also be made to hold Forward calls until released.</summary>
internal sealed class ReplicaRecord
{
    private readonly ConcurrentQueue<(ForwardRequest Request, string[] Traceparents)> _forwards = new();
    private volatile TaskCompletionSource _hold = Released();
    private int _probes;

    /// <summary>Every Forward request received, in order, with the <c>traceparent</c> headers it came with.</summary>
    public IReadOnlyList<(ForwardRequest Request, string[] Traceparents)> Forwards => [.. _forwards];

    /// <summary>How many GetInfo calls the replica received.</summary>
    public int Probes => Volatile.Read(ref _probes);

    internal Task HoldTask => _hold.Task;

    /// <summary>Makes Forward calls wait (until <see cref="Release"/> or the caller gives up).</summary>
    public void Hold() => _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _hold.TrySetResult();

    internal void Received(ForwardRequest request, string[] traceparents) => _forwards.Enqueue((request, traceparents));

    internal void Probed() => Interlocked.Increment(ref _probes);

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource();
        released.SetResult();
        return released;
    }
}
