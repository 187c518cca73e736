using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Hosting;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Router;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.Hosting;

/// <summary>
/// A router host in this process in front of two shard hosts on loopback (tiny synthetic model, a generated
/// placement of two shards, static discovery).
/// </summary>
[Collection(TracingHosts.Name)]
public sealed class RouterHostTests : IAsyncLifetime
{
    private const string ModelId = "synthetic-tiny";
    private const string ApiKey = "router-test-key";
    private const int MaxTokens = 4;

    // The test's own requests carry no traceparent of HttpClient's making: a trace test sends the one it chose. (The
    // hosts' HttpClient instrumentation sees this process's calls too; see ChatAsync.)
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator() });

    private static readonly ServedModelOptions Model = new() { Synthetic = SyntheticPreset.Tiny, Seed = 5, Shards = 2 };

    private readonly List<ShardHost> _shards = [];
    private RouterHost? _router;

    public static TheoryData<string, string> BadOptions => new()
    {
        { "BindAddress", "BindAddress \"localhost\" is not an IP address" },
        { "Port", "Port must be between 0 and 65535, got 70000" },
        { "WireDtype", "WireDtype 7 is not one of Float32, Bfloat16" },
        { "StepDeadline", "StepDeadline must be positive, got 00:00:00" },
        { "ApiKey", "ApiKey must not be empty" },
        { "ExpertLoadWindow", "ExpertLoadWindow must be at least 1 ms, got 00:00:00.0005000" },
        { "Scheduler.MaxBatchTokens", "maxBatchTokens must be at least 1, got 0" },
        { "Scheduler.MaxConcurrentRequests", "maxConcurrentRequests must be at least 1, got 0" },
        { "Scheduler.MaxQueuedRequests", "maxQueuedRequests must be at least 1, got 0" },
        { "Discovery.StaticShards", "static discovery needs the endpoints of every shard (--shard k=host:port) (Parameter 'StaticShards')" },
        { "Discovery.ServicePrefix", "Dns discovery needs the shard Services' prefix (the model's name) (Parameter 'ServicePrefix')" },
        { "Discovery.Namespace", "EndpointSlices discovery needs the shard Services' namespace (Parameter 'Namespace')" },
        { "Discovery.Kind", "Kind 9 is not a discovery kind" },
        { "Model.Synthetic", "Synthetic 9 is not a synthetic preset" },
        { "Model.ModelDirectory", "exactly one of ModelDirectory and Synthetic must be set" },
        { "Model.ModelDirectory.Empty", "ModelDirectory must not be empty" },
        { "Model.Skew", "Skew must be a number of at least 0, got NaN" },
        { "Model.ModelId", "ModelId must not be empty" },
        { "Model.PlacementPath", "exactly one of PlacementPath and Shards must be set" },
        { "Model.PlacementPath.Empty", "PlacementPath must not be empty" },
        { "Model.PlacementDebounce", "PlacementDebounce must not be negative, got -00:00:01" },
        { "Model.Shards", "Shards must be at least 1, got 0" },
        { "Model.SlotsPerShard", "SlotsPerShard applies only to a generated placement (Shards)" },
        { "Model.SlotsPerShard.Zero", "SlotsPerShard must be at least 1, got 0" },
        { "Model.Dtype", "Dtype Int32 is not one of Float32, BFloat16" },
        { "Model.Device", "Device must not be empty" },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_router is not null)
        {
            await _router.DisposeAsync();
        }

        foreach (var shard in _shards)
        {
            await shard.DisposeAsync();
        }
    }

    private async Task StartShardsAsync(Action<TracerProviderBuilder>? tracing = null)
    {
        for (var index = 0; index < Model.Shards; index++)
        {
            var shard = await ShardHost.StartAsync(
                new ShardHostOptions { ShardIndex = index, Model = Model, BindAddress = "127.0.0.1", GrpcPort = 0, MetricsPort = 0 },
                logging: builder => builder.ClearProviders(),
                tracing: tracing);
            _shards.Add(shard);
            await shard.Ready;
        }
    }

    private static RouterHostOptions Options(IEnumerable<ShardHost> shards) => new()
    {
        Model = Model,
        Discovery = new ShardDiscoveryOptions { StaticShards = [.. shards.Select((s, k) => $"{k}=127.0.0.1:{s.GrpcEndpoint.Port}")] },
        BindAddress = "127.0.0.1",
        Port = 0,
    };

    /// <summary>Starts the shards and the router, and waits until the router is ready.</summary>
    private async Task<RouterHost> StartAsync(Func<RouterHostOptions, RouterHostOptions>? change = null, Action<TracerProviderBuilder>? tracing = null)
    {
        await StartShardsAsync(tracing);
        var options = Options(_shards);
        _router = await RouterHost.StartAsync(change?.Invoke(options) ?? options, logging: builder => builder.ClearProviders(), tracing: tracing);
        await WaitForAsync(_router, "/readyz", HttpStatusCode.OK);
        return _router;
    }

    private static Uri Url(RouterHost router, string path) => new($"http://127.0.0.1:{router.Endpoint.Port}{path}");

    private static async Task<HttpResponseMessage> ChatAsync(RouterHost router, string? key = null, string? traceparent = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(router, "/v1/chat/completions"))
        {
            Content = new StringContent(
                $$"""{"model":"{{ModelId}}","messages":[{"role":"user","content":"Hi"}],"temperature":0,"max_tokens":{{MaxTokens}}}""",
                Encoding.UTF8,
                "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (traceparent is not null)
        {
            request.Headers.Add("traceparent", traceparent);
        }

        // Untraced, or the hosts' HttpClient instrumentation would put its own client span's traceparent in the request.
        using (SuppressInstrumentationScope.Begin())
        {
            return await Http.SendAsync(request);
        }
    }

    /// <summary>The usage of one answered chat completion, and whether it ended at <see cref="MaxTokens"/>.</summary>
    private static async Task<(int Prompt, int Completion, bool Length)> ChatUsageAsync(RouterHost router)
    {
        using var response = await ChatAsync(router);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var json = JsonNode.Parse(body)!;
        var usage = json["usage"]!;
        return ((int)usage["prompt_tokens"]!, (int)usage["completion_tokens"]!, (string)json["choices"]![0]!["finish_reason"]! == "length");
    }

    /// <summary>The body of <paramref name="path"/> once it answers <paramref name="status"/>; fails after 10 s with the last answer.</summary>
    private static async Task<string> WaitForAsync(RouterHost router, string path, HttpStatusCode status, Func<string, bool>? done = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await Http.GetAsync(Url(router, path));
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == status && (done is null || done(body)))
            {
                return body;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                Assert.Fail($"{path} did not answer {(int)status} within 10 s; last: {(int)response.StatusCode} {body}");
            }

            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task ChatCompletion_EveryShardForwardSpanDescendsFromTheRoutersStepSpanInTheRequestsTrace()
    {
        var spans = new RecordedSpans();
        var router = await StartAsync(tracing: tracing => tracing.AddInMemoryExporter(spans));
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpanId = ActivitySpanId.CreateRandom();

        using (var response = await ChatAsync(router, traceparent: $"00-{traceId}-{callerSpanId}-01"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Every host's tracer provider exports what this process traces: each span may be recorded more than once.
        // The request's span ends after every step, call and forward of it; a shard's server span may end a little
        // after the router has its answer.
        var trace = await spans.WaitForTraceAsync(traceId, t =>
            t.Any(s => s.Kind == ActivityKind.Server && s.ParentSpanId == callerSpanId)
            && t.Where(s => s.OperationName == "expert_shard.forward").All(f => t.Any(s => s.SpanId == f.ParentSpanId)));
        var byId = trace.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        Activity Parent(Activity span) => byId.TryGetValue(span.ParentSpanId, out var parent)
            ? parent
            : throw new Xunit.Sdk.XunitException($"the parent of {span.OperationName} {span.SpanId} is not in the trace: {string.Join(", ", byId.Values.Select(s => $"{s.OperationName} {s.SpanId} < {s.ParentSpanId}"))}");
        var request = Assert.Single(byId.Values, s => s.Kind == ActivityKind.Server && s.ParentSpanId == callerSpanId);
        Assert.Equal(router.Endpoint.Port, Convert.ToInt32(request.GetTagItem("server.port"), CultureInfo.InvariantCulture));
        var forwards = byId.Values.Where(s => s.OperationName == "expert_shard.forward").ToList();
        Assert.NotEmpty(forwards);
        var shardPorts = _shards.Select(s => s.GrpcEndpoint.Port).ToList();
        foreach (var forward in forwards)
        {
            var shardServer = Parent(forward);
            Assert.Equal(ActivityKind.Server, shardServer.Kind);
            Assert.Contains(Convert.ToInt32(shardServer.GetTagItem("server.port"), CultureInfo.InvariantCulture), shardPorts);
            // Between the two: the gRPC client's span of the call and HttpClient's of its request, both exported.
            var transport = Parent(shardServer);
            Assert.Equal("System.Net.Http.HttpRequestOut", transport.OperationName);
            transport = Parent(transport);
            Assert.Equal("Grpc.Net.Client.GrpcOut", transport.OperationName);
            var call = Parent(transport);
            Assert.Equal("expert_shard.call", call.OperationName);
            Assert.Equal(ActivityKind.Client, call.Kind);
            var step = Parent(call);
            Assert.Equal("scheduler.step", step.OperationName);
            Assert.Equal(request.SpanId, step.ParentSpanId);
        }

        // Two shards hold the experts of every MoE layer: the prefill step alone calls both, so both forwarded.
        Assert.Equal(
            shardPorts.Order(),
            forwards.Select(f => Convert.ToInt32(Parent(f).GetTagItem("server.port"), CultureInfo.InvariantCulture)).Distinct().Order());
    }

    [Fact]
    public async Task Readyz_OkWhileBothShardsServe_503NamingTheShardOnceOneStops()
    {
        var router = await StartAsync();
        var ready = await WaitForAsync(router, "/readyz", HttpStatusCode.OK);
        Assert.Equal("serving placement revision 1", ready);

        await _shards[1].DisposeAsync();

        var unready = await WaitForAsync(router, "/readyz", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("expert shards without a reachable replica: 1 (placement revision 1)", unready);
        Assert.Equal([1], router.UnreachableShards);
        using var alive = await Http.GetAsync(Url(router, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("alive", await alive.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_AfterAChatCompletion_ListEveryRouterSeriesWithTheRequestsCounts()
    {
        var router = await StartAsync();

        var (prompt, completion, _) = await ChatUsageAsync(router);

        // The counts of a request are complete shortly after its answer: wait for the last of them.
        string[] expected =
        [
            "dsop_router_requests_total{status=\"200\"} 1\n",
            "dsop_router_inflight_requests 0\n",
            "dsop_router_queue_depth 0\n",
            $"dsop_router_tokens_total{{kind=\"prompt\"}} {prompt}\n",
            $"dsop_router_tokens_total{{kind=\"generated\"}} {completion}\n",
            "dsop_router_time_to_first_token_seconds_count 1\n",
            $"dsop_router_inter_token_latency_seconds_count {completion - 1}\n",
        ];
        var text = await WaitForAsync(router, "/metrics", HttpStatusCode.OK, body => expected.All(line => body.Contains(line, StringComparison.Ordinal)));
        Assert.Matches("""(?m)^dsop_router_dispatch_seconds_count\{shard="0"\} [1-9]\d*$""", text);
        Assert.Matches("""(?m)^dsop_router_dispatch_seconds_count\{shard="1"\} [1-9]\d*$""", text);
    }

    [Fact]
    public async Task ExpertLoad_AfterAChatCompletion_CountsEveryProcessedTokensExpertsInEveryMoeLayer()
    {
        var router = await StartAsync();

        var (prompt, completion, length) = await ChatUsageAsync(router);

        // Prefill routes the prompt; each decode step routes the token before it: all but a last token cut off by max_tokens.
        var processed = prompt + completion - (length ? 1 : 0);
        using var response = await Http.GetAsync(Url(router, "/v1/expert-load"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var load = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(ModelId, (string?)load["modelId"]);
        Assert.Equal(1L, (long)load["placementRevision"]!);
        Assert.InRange((DateTimeOffset)load["since"]!, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow);
        Assert.Equal(60.0, (double)load["windowSeconds"]!);
        var layers = load["layers"]!.AsArray();
        Assert.Equal(router.Config.MoeLayers, layers.Select(l => (int)l!["layer"]!));
        foreach (var layer in layers)
        {
            var total = layer!["total"]!.AsArray().Select(c => (long)c!).ToList();
            Assert.Equal(router.Config.NRoutedExperts, total.Count);
            Assert.Equal((long)processed * router.Config.NumExpertsPerToken, total.Sum());
            Assert.Equal(total, layer["window"]!.AsArray().Select(c => (long)c!));
        }
    }

    [Fact]
    public async Task Placement_NewRevisionRolledOutShardByShard_PendingUntilEveryShardServesIt_ThenSwitched()
    {
        var directory = Directory.CreateTempSubdirectory("router-placement-");
        try
        {
            var config = SyntheticModel.Config(SyntheticPreset.Tiny);
            var first = PlacementGenerator.Contiguous(config, ModelId, 1, shards: 2, slotsPerShard: 8).Serialize();
            var second = PlacementGenerator.RoundRobin(config, ModelId, 2, shards: 2, slotsPerShard: 8).Serialize();
            string File(string name) => Path.Combine(directory.FullName, name);
            foreach (var name in new[] { "router.json", "shard-0.json", "shard-1.json" })
            {
                await System.IO.File.WriteAllTextAsync(File(name), first);
            }

            var onFile = Model with { Shards = null, PlacementPath = File("router.json"), PlacementDebounce = TimeSpan.FromMilliseconds(10) };
            for (var index = 0; index < 2; index++)
            {
                var shard = await ShardHost.StartAsync(
                    new ShardHostOptions { ShardIndex = index, Model = onFile with { PlacementPath = File($"shard-{index}.json") }, BindAddress = "127.0.0.1", GrpcPort = 0, MetricsPort = 0 },
                    logging: builder => builder.ClearProviders());
                _shards.Add(shard);
                await shard.Ready;
            }

            _router = await RouterHost.StartAsync(Options(_shards) with { Model = onFile }, logging: builder => builder.ClearProviders());
            var router = _router;
            string Replica(int k) => $"127.0.0.1:{_shards[k].GrpcEndpoint.Port}";
            string State(long revision, string pending, string shard0, string shard1) =>
                $$"""{"modelId":"{{ModelId}}","revision":{{revision}},"pending":{{pending}},"shards":[""" +
                $$"""{"shard":0,"replicas":[{"endpoint":"{{Replica(0)}}","reachable":true,"revisions":[{{shard0}}]}]},""" +
                $$"""{"shard":1,"replicas":[{"endpoint":"{{Replica(1)}}","reachable":true,"revisions":[{{shard1}}]}]}]}""";

            await WaitForAsync(router, "/v1/placement", HttpStatusCode.OK, body => body == State(1, "null", "1", "1"));
            await System.IO.File.WriteAllTextAsync(File("router.json"), second);
            await WaitForAsync(router, "/v1/placement", HttpStatusCode.OK, body => body == State(1, "2", "1", "1"));
            await System.IO.File.WriteAllTextAsync(File("shard-0.json"), second);
            await WaitForAsync(router, "/v1/placement", HttpStatusCode.OK, body => body == State(1, "2", "1,2", "1"));
            await System.IO.File.WriteAllTextAsync(File("shard-1.json"), second);
            await WaitForAsync(router, "/v1/placement", HttpStatusCode.OK, body => body == State(2, "null", "1,2", "1,2"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ApiKey_GuardsTheOpenAiApiOnly_ProbesMetricsExpertLoadAndPlacementStayOpen()
    {
        var router = await StartAsync(options => options with { ApiKey = ApiKey });

        using (var without = await ChatAsync(router))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        }

        using (var wrong = await ChatAsync(router, key: "not-the-key"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        using (var with = await ChatAsync(router, key: ApiKey))
        {
            Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        }

        foreach (var path in new[] { "/healthz", "/readyz", "/metrics", "/v1/expert-load", "/v1/placement" })
        {
            using var open = await Http.GetAsync(Url(router, path));
            Assert.True(open.StatusCode == HttpStatusCode.OK, $"{path}: {(int)open.StatusCode}");
        }
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task StartAsync_BadOption_IsRefusedNamingIt(string field, string message)
    {
        var good = Options([]) with { Discovery = new ShardDiscoveryOptions { StaticShards = ["0=127.0.0.1:1", "1=127.0.0.1:2"] } };
        var options = field switch
        {
            "BindAddress" => good with { BindAddress = "localhost" },
            "Port" => good with { Port = 70000 },
            "WireDtype" => good with { WireDtype = (TensorDtype)7 },
            "StepDeadline" => good with { StepDeadline = TimeSpan.Zero },
            "ApiKey" => good with { ApiKey = " " },
            "ExpertLoadWindow" => good with { ExpertLoadWindow = TimeSpan.FromTicks(5000) },
            "Scheduler.MaxBatchTokens" => good with { Scheduler = new SchedulerOptions { MaxBatchTokens = 0 } },
            "Scheduler.MaxConcurrentRequests" => good with { Scheduler = new SchedulerOptions { MaxConcurrentRequests = 0 } },
            "Scheduler.MaxQueuedRequests" => good with { Scheduler = new SchedulerOptions { MaxQueuedRequests = 0 } },
            "Discovery.StaticShards" => good with { Discovery = new ShardDiscoveryOptions() },
            "Discovery.ServicePrefix" => good with { Discovery = new ShardDiscoveryOptions { Kind = ShardDiscoveryKind.Dns, Namespace = "models" } },
            "Discovery.Namespace" => good with { Discovery = new ShardDiscoveryOptions { Kind = ShardDiscoveryKind.EndpointSlices, ServicePrefix = "tiny" } },
            "Discovery.Kind" => good with { Discovery = new ShardDiscoveryOptions { Kind = (ShardDiscoveryKind)9 } },
            "Model.Synthetic" => good with { Model = Model with { Synthetic = (SyntheticPreset)9 } },
            "Model.ModelDirectory" => good with { Model = Model with { ModelDirectory = "model" } },
            "Model.ModelDirectory.Empty" => good with { Model = Model with { Synthetic = null, ModelDirectory = " " } },
            "Model.Skew" => good with { Model = Model with { Skew = double.NaN } },
            "Model.ModelId" => good with { Model = Model with { ModelId = "" } },
            "Model.PlacementPath" => good with { Model = Model with { PlacementPath = "placement.json" } },
            "Model.PlacementPath.Empty" => good with { Model = Model with { Shards = null, PlacementPath = " " } },
            "Model.PlacementDebounce" => good with { Model = Model with { PlacementDebounce = TimeSpan.FromSeconds(-1) } },
            "Model.Shards" => good with { Model = Model with { Shards = 0 } },
            "Model.SlotsPerShard" => good with { Model = Model with { Shards = null, PlacementPath = "placement.json", SlotsPerShard = 9 } },
            "Model.SlotsPerShard.Zero" => good with { Model = Model with { SlotsPerShard = 0 } },
            "Model.Dtype" => good with { Model = Model with { Dtype = ScalarType.Int32 } },
            "Model.Device" => good with { Model = Model with { Device = "" } },
            _ => throw new ArgumentOutOfRangeException(nameof(field), field, "no such case"),
        };

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => RouterHost.StartAsync(options));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_StaticEndpointsOfAnotherNumberOfShards_IsRefusedNamingThem()
    {
        var options = Options([]) with { Discovery = new ShardDiscoveryOptions { StaticShards = ["0=127.0.0.1:1"] } };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => RouterHost.StartAsync(options, logging: builder => builder.ClearProviders()));

        Assert.StartsWith("StaticShards (--shard) gives endpoints of 1 shards; the placement has 2", error.Message, StringComparison.Ordinal);
    }
}
