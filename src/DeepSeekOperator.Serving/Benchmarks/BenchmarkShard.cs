using System.Net;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Hosting.Internal;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Shard;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Serving.Benchmarks;

/// <summary>
/// An expert shard served in this process for the benchmark: <see cref="ExpertShardService"/> behind Kestrel
/// on a free loopback port (HTTP/2 cleartext, the windows and message limits of <c>dsop shard</c>), counting the
/// protobuf bytes of the requests it receives and the responses it sends.
/// </summary>
internal sealed class BenchmarkShard : IAsyncDisposable
{
    private const int MaxMessageBytes = 256 << 20;

    private readonly WebApplication _app;
    private readonly ShardRevisions _revisions;
    private readonly PayloadCounter _counter;

    private BenchmarkShard(WebApplication app, ShardRevisions revisions, PayloadCounter counter, ShardEndpoint endpoint)
    {
        _app = app;
        _revisions = revisions;
        _counter = counter;
        Endpoint = endpoint;
    }

    /// <summary>Where the shard listens.</summary>
    public ShardEndpoint Endpoint { get; }

    /// <summary>The protobuf bytes of every Forward request received and response sent so far.</summary>
    public long PayloadBytes => _counter.Bytes;

    /// <summary>Serves <paramref name="executor"/> (which it takes ownership of) as shard <paramref name="shard"/> of <paramref name="locator"/>'s placement.</summary>
    public static async Task<BenchmarkShard> StartAsync(ModelConfig config, ExpertLocator locator, int shard, LocalExpertExecutor executor, CancellationToken cancellationToken)
    {
        var revisions = new ShardRevisions(new ExpertShardOptions { ShardIndex = shard, Config = config });
        WebApplication? app = null;
        var served = false;
        try
        {
            revisions.Add(locator, executor);
            served = true;
            var counter = new PayloadCounter();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                ShardKestrel.SizeForSteps(kestrel, MaxMessageBytes);
                kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
            });
            builder.Services.AddGrpc(grpc =>
            {
                grpc.MaxReceiveMessageSize = MaxMessageBytes;
                grpc.MaxSendMessageSize = MaxMessageBytes;
                grpc.Interceptors.Add<CountingInterceptor>(counter);
            });
            builder.Services.AddSingleton(revisions);
            builder.Services.AddSingleton(new ShardMetrics(Metrics.NewCustomRegistry()));
            builder.Services.AddSingleton<ExpertShardService>();
            app = builder.Build();
            app.MapGrpcService<ExpertShardService>();
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var address = app.Urls.Select(url => new Uri(url)).Single();
            return new BenchmarkShard(app, revisions, counter, new ShardEndpoint(IPAddress.Loopback.ToString(), address.Port));
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            // Once served, the executor is the revisions' to free.
            revisions.Dispose();
            if (!served)
            {
                executor.Dispose();
            }

            throw;
        }
    }

    /// <summary>Stops the server, then frees the experts.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _revisions.Dispose();
    }

    private sealed class PayloadCounter
    {
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public void Add(IMessage message) => Interlocked.Add(ref _bytes, message.CalculateSize());
    }

    private sealed class CountingInterceptor(PayloadCounter counter) : Interceptor
    {
        public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            if (request is IMessage sent && response is IMessage answered)
            {
                counter.Add(sent);
                counter.Add(answered);
            }

            return response;
        }
    }
}
