using System.Diagnostics;
using System.Globalization;
using System.Net;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Hosting;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Tensors;
using DeepSeekOperator.Serving.Tests.Discovery;
using DeepSeekOperator.Serving.Tests.Shard;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;
using static TorchSharp.torch;
using StatusCode = Grpc.Core.StatusCode;

namespace DeepSeekOperator.Serving.Tests.Hosting;

[Collection(TracingHosts.Name)]
public sealed class ShardHostTests : IAsyncLifetime
{
    private const int Layer = 2;
    private static readonly ModelConfig Config = SyntheticModel.Config(SyntheticPreset.Tiny);
    private readonly string _directory = Directory.CreateTempSubdirectory("dsop-shardhost-").FullName;
    private readonly RecordingLogger<ShardHost> _log = new();
    private static readonly HttpClient Http = new();
    private readonly List<GrpcChannel> _channels = [];
    private ShardHost? _host;

    private string PlacementPath => Path.Combine(_directory, "placement.json");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _channels.ForEach(c => c.Dispose());
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private async Task<ShardHost> StartAsync(ShardHostOptions? options = null, Action<TracerProviderBuilder>? tracing = null)
    {
        options ??= new ShardHostOptions { ShardIndex = 0, Model = new ServedModelOptions { Synthetic = SyntheticPreset.Tiny, Seed = 5, Shards = 2 } };
        _host = await ShardHost.StartAsync(
            options with { BindAddress = "127.0.0.1", GrpcPort = 0, MetricsPort = 0, Model = options.Model with { PlacementDebounce = TimeSpan.FromMilliseconds(20) } },
            logging: builder => builder.ClearProviders().AddProvider(new RecordingProvider(_log)),
            tracing: tracing);
        return _host;
    }

    private ExpertShard.ExpertShardClient Client(ShardHost host)
    {
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{host.GrpcEndpoint.Port}");
        _channels.Add(channel);
        return new ExpertShard.ExpertShardClient(channel);
    }

    private static Task<HttpResponseMessage> GetAsync(ShardHost host, string path) => Http.GetAsync(new Uri($"http://127.0.0.1:{host.MetricsEndpoint.Port}{path}"));

    private static ForwardRequest Request(ulong step, long revision, int[] experts)
    {
        var hidden = Enumerable.Range(0, 3 * Config.HiddenSize).Select(i => ((i % 11) - 5) / 4f).ToArray();
        var request = ShardServerFixture.Request(step, Layer, hidden, [.. experts.Select((_, i) => i % 3)], experts, [.. experts.Select(_ => 0.5f)]);
        request.PlacementRevision = revision;
        return request;
    }

    private async Task<ShardHost> StartOnPlacementFileAsync()
    {
        await File.WriteAllTextAsync(PlacementPath, PlacementGenerator.Contiguous(Config, "tiny", 1, shards: 2, slotsPerShard: 8).Serialize());
        var host = await StartAsync(new ShardHostOptions { ShardIndex = 0, Model = new ServedModelOptions { Synthetic = SyntheticPreset.Tiny, Seed = 5, PlacementPath = PlacementPath } });
        await host.Ready;
        return host;
    }

    [Fact]
    public async Task PortsZero_BindsTwoFreePortsAndIsReadyOnceLoaded()
    {
        var host = await StartAsync();

        await host.Ready;

        Assert.NotEqual(0, host.GrpcEndpoint.Port);
        Assert.NotEqual(0, host.MetricsEndpoint.Port);
        Assert.NotEqual(host.GrpcEndpoint.Port, host.MetricsEndpoint.Port);
        using var ready = await GetAsync(host, "/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("serving placement revision 1", await ready.Content.ReadAsStringAsync());
        using var alive = await GetAsync(host, "/healthz");
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        await _log.WaitForAsync("Expert shard 0 of 2: gRPC on 127.0.0.1:");
        await _log.WaitForAsync("Serving shard 0 of placement revision 1 of model 'synthetic-tiny': 8 experts in each of 3 MoE layers");
    }

    [Fact]
    public async Task ExpertsThatCannotBeLoaded_ReadyzAnswers503WithTheReason()
    {
        var model = Path.Combine(_directory, "model");
        SyntheticModel.Write(model, Config, seed: 1, skew: 0, ScalarType.Float32);
        foreach (var weights in Directory.GetFiles(model, "*.safetensors"))
        {
            File.Delete(weights);
        }

        var host = await StartAsync(new ShardHostOptions { ShardIndex = 1, Model = new ServedModelOptions { ModelDirectory = model, Shards = 2 } });

        await Assert.ThrowsAnyAsync<Exception>(() => host.Ready);
        using var ready = await GetAsync(host, "/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.StartsWith("loading the experts of placement revision 1 failed: ", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var info = await Assert.ThrowsAsync<RpcException>(async () => await Client(host).GetInfoAsync(new GetInfoRequest()));
        Assert.Equal(StatusCode.Unavailable, info.StatusCode);
    }

    [Fact]
    public async Task Metrics_ListTheShardSeriesAndCountAForward()
    {
        var host = await StartAsync();
        await host.Ready;

        await Client(host).ForwardAsync(Request(1, revision: 1, experts: [2, 3, 2, 5]));

        using var response = await GetAsync(host, "/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("dsop_shard_tokens_total 3", text, StringComparison.Ordinal);
        Assert.Contains("dsop_shard_expert_tokens_total{expert=\"2\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("dsop_shard_expert_tokens_total{expert=\"5\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("dsop_shard_forward_seconds_count 1", text, StringComparison.Ordinal);
        Assert.Contains("dsop_shard_placement_revision 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_CountARefusalByStatusCode()
    {
        var host = await StartAsync();
        await host.Ready;

        await Assert.ThrowsAsync<RpcException>(async () => await Client(host).ForwardAsync(Request(1, revision: 1, experts: [9])));

        using var response = await GetAsync(host, "/metrics");
        Assert.Contains("dsop_shard_refused_total{code=\"InvalidArgument\"} 1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PlacementFileRewrittenWithANewRevision_BothRevisionsServedAndAnswered()
    {
        var host = await StartOnPlacementFileAsync();
        var client = Client(host);

        // Revision 2 moves expert 1 off shard 0 and keeps expert 2 there (round robin: shard 0 holds the even ones).
        await File.WriteAllTextAsync(PlacementPath, PlacementGenerator.RoundRobin(Config, "tiny", 2, shards: 2, slotsPerShard: 8).Serialize());
        await _log.WaitForAsync("revisions served: [1, 2]");

        var info = await client.GetInfoAsync(new GetInfoRequest());
        Assert.Equal([1L, 2L], info.ServedRevisions);
        Assert.Equal(2L, info.PlacementRevision);
        Assert.All(info.ExpertsPerLayer, layer => Assert.Equal([0u, 2u, 4u, 6u, 8u, 10u, 12u, 14u], layer.Expert));
        var onOld = await client.ForwardAsync(Request(1, revision: 1, experts: [1, 2]));
        var onNew = await client.ForwardAsync(Request(2, revision: 2, experts: [2]));
        var onlyExpert2 = await client.ForwardAsync(Request(3, revision: 1, experts: [2]));
        Assert.NotEqual(onOld.Output, onlyExpert2.Output);
        Assert.Equal(onlyExpert2.Output, onNew.Output);
        Assert.Contains(TensorBytes.ToSingles(onNew.Output.Span, TensorDtype.Float32), v => v != 0f);
        var moved = await Assert.ThrowsAsync<RpcException>(async () => await client.ForwardAsync(Request(4, revision: 2, experts: [1])));
        Assert.Equal(StatusCode.InvalidArgument, moved.StatusCode);
    }

    [Fact]
    public async Task ThirdRevision_DropsTheFirst()
    {
        var host = await StartOnPlacementFileAsync();
        var client = Client(host);
        await File.WriteAllTextAsync(PlacementPath, PlacementGenerator.RoundRobin(Config, "tiny", 2, shards: 2, slotsPerShard: 8).Serialize());
        await _log.WaitForAsync("revisions served: [1, 2]");

        await File.WriteAllTextAsync(PlacementPath, PlacementGenerator.Contiguous(Config, "tiny", 3, shards: 2, slotsPerShard: 9).Serialize());
        await _log.WaitForAsync("revisions served: [2, 3]");

        Assert.Equal([2L, 3L], (await client.GetInfoAsync(new GetInfoRequest())).ServedRevisions);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ForwardAsync(Request(1, revision: 1, experts: [2])));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("step 1: placement_revision 1 is not served by this shard (it serves 2, 3)", error.Status.Detail);
        await client.ForwardAsync(Request(2, revision: 3, experts: [8]));
    }

    [Fact]
    public async Task Forward_CallCarryingATraceparent_ShardSpanContinuesTheCallersTrace()
    {
        var spans = new RecordedSpans();
        var host = await StartAsync(tracing: tracing => tracing.AddInMemoryExporter(spans));
        await host.Ready;
        // The call carries exactly the traceparent a router's step span would give it: the host's HttpClient
        // instrumentation, which sees this process's calls too, must not put a client span in between.
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{host.GrpcEndpoint.Port}", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator() },
        });
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpanId = ActivitySpanId.CreateRandom();

        using (SuppressInstrumentationScope.Begin())
        {
            await new ExpertShard.ExpertShardClient(channel).ForwardAsync(
                Request(1, revision: 1, experts: [3]),
                new Metadata { { "traceparent", $"00-{traceId}-{callerSpanId}-01" } });
        }

        var trace = await spans.WaitForTraceAsync(traceId, t => t.Any(s => s.OperationName == "expert_shard.forward") && t.Any(s => s.Kind == ActivityKind.Server));
        var forward = Assert.Single(trace, s => s.OperationName == "expert_shard.forward");
        var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server);
        Assert.Equal(ActivityKind.Internal, forward.Kind);
        Assert.Equal(server.SpanId, forward.ParentSpanId);
        Assert.Equal(callerSpanId, server.ParentSpanId);
        Assert.Equal(Layer, Convert.ToInt32(forward.GetTagItem("layer"), CultureInfo.InvariantCulture));
        Assert.Equal(3, Convert.ToInt32(forward.GetTagItem("tokens"), CultureInfo.InvariantCulture));
        Assert.Equal(1, Convert.ToInt32(forward.GetTagItem("revision"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task StartAsync_BadOption_IsRefusedNamingIt()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => ShardHost.StartAsync(
            new ShardHostOptions { ShardIndex = 2, Model = new ServedModelOptions { Synthetic = SyntheticPreset.Tiny, Shards = 2 } }));

        Assert.Contains("ShardIndex 2 is not below Shards 2", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Sends every category's messages to one recording logger.</summary>
    private sealed class RecordingProvider(RecordingLogger<ShardHost> logger) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }
}
