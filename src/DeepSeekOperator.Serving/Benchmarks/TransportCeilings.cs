using System.Diagnostics;
using System.Net;
using DeepSeekOperator.Serving.Hosting.Internal;
using DeepSeekOperator.Serving.Protocol;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Benchmarks;

/// <summary>
/// What the .NET HTTP stack between loopback TCP and the shard protocol costs on this machine: one payload sent
/// to Kestrel and echoed back, over HTTP/1.1, over HTTP/2 and as a gRPC <c>Forward</c> call whose answer is the
/// request's own bytes (no tensor work). Each is payload bytes both ways ÷ the best round trip.
/// </summary>
internal static class TransportCeilings
{
    /// <summary>Payload bytes per second of each transport, best of <paramref name="runs"/> after a warm-up.</summary>
    public static async Task<(double Http1, double Http2, double Grpc)> MeasureAsync(int bytes, int runs, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        ListenOptions? http1 = null, http2 = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ShardKestrel.SizeForSteps(kestrel, bytes + 1024);
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                http1 = listen;
            });
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                http2 = listen;
            });
        });
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = null;
            grpc.MaxSendMessageSize = null;
        });
        var app = builder.Build();
        app.MapGrpcService<EchoShard>();
        app.MapPost("/echo", EchoAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        await using (app.ConfigureAwait(false))
        {
            var payload = new byte[bytes];
            Random.Shared.NextBytes(payload);
            using var client1 = new HttpClient { BaseAddress = new Uri($"http://{http1!.IPEndPoint}") };
            using var client2 = new HttpClient { BaseAddress = new Uri($"http://{http2!.IPEndPoint}"), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var channel = GrpcChannel.ForAddress($"http://{http2.IPEndPoint}", new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
            var shard = new ExpertShard.ExpertShardClient(channel);
            var request = new ForwardRequest { Hidden = UnsafeByteOperations.UnsafeWrap(payload) };

            var h1 = await BestAsync(runs, () => EchoOverHttpAsync(client1, payload, cancellationToken)).ConfigureAwait(false);
            var h2 = await BestAsync(runs, () => EchoOverHttpAsync(client2, payload, cancellationToken)).ConfigureAwait(false);
            var grpc = await BestAsync(runs, async () => await shard.ForwardAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            return (2.0 * bytes / h1, 2.0 * bytes / h2, 2.0 * bytes / grpc);
        }
    }

    private static async Task EchoAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task EchoOverHttpAsync(HttpClient client, byte[] payload, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(payload);
        using var response = await client.PostAsync(new Uri("/echo", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var echoed = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (echoed.Length != payload.Length)
        {
            throw new InvalidOperationException($"the echo returned {echoed.Length} bytes of {payload.Length}");
        }
    }

    private static async Task<double> BestAsync(int runs, Func<Task> roundTrip)
    {
        var best = double.MaxValue;
        for (var run = 0; run <= runs; run++)
        {
            var start = Stopwatch.GetTimestamp();
            await roundTrip().ConfigureAwait(false);
            if (run > 0)
            {
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }

        return best;
    }

    /// <summary>Answers a Forward call with the request's own hidden bytes: the shard protocol with no work behind it.</summary>
    private sealed class EchoShard : ExpertShard.ExpertShardBase
    {
        public override Task<ForwardResponse> Forward(ForwardRequest request, ServerCallContext context) =>
            Task.FromResult(new ForwardResponse { StepId = request.StepId, Output = request.Hidden });
    }
}
