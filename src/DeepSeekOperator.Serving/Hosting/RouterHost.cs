using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Moe.Tokenization;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Hosting.Internal;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.OpenAi;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Router;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using Prometheus;

namespace DeepSeekOperator.Serving.Hosting;

/// <summary>
/// The router process (<c>dsop router</c>): every weight of the model but the routed experts, the
/// continuous-batching scheduler, the remote expert executor that calls the shards, and the OpenAI-compatible API
/// with <c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>, <c>/v1/expert-load</c> and <c>/v1/placement</c> on one port. The API key, when
/// set, guards the OpenAI API only. <c>/healthz</c> fails (503) once a background loop (scheduler, remote executor,
/// shard discovery) has crashed, so that the process is restarted rather than left answering nothing.
/// </summary>
public sealed class RouterHost : IAsyncDisposable
{
    /// <summary>The tracing service name when <c>OTEL_SERVICE_NAME</c> is not set.</summary>
    public const string ServiceName = "dsop-router";

    private readonly RouterHostOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private BackgroundLoops? _loops;
    private PlacementSource? _placementSource;
    private IShardResolver? _resolver;
    private RemoteExpertExecutor? _executor;
    private MoeModel? _model;
    private ContinuousBatcher? _batcher;
    private ExpertLoadTracker? _load;
    private int _disposed;

    private RouterHost(RouterHostOptions options, ModelConfig config)
    {
        _options = options;
        Config = config;
        Metrics = new RouterMetrics(Prometheus.Metrics.NewCustomRegistry());
    }

    /// <summary>The model's architecture.</summary>
    public ModelConfig Config { get; }

    /// <summary>The router's metrics, served at <c>/metrics</c>.</summary>
    public RouterMetrics Metrics { get; }

    /// <summary>The bound endpoint (its port is the free one chosen when the option was 0).</summary>
    public IPEndPoint Endpoint { get; private set; } = null!;

    /// <summary>The placement revision steps are dispatched with now.</summary>
    public ExpertPlacement Placement => _executor!.Placement;

    /// <summary>The shards of <see cref="Placement"/> with no reachable replica; the router is ready when there are none.</summary>
    public IReadOnlyList<int> UnreachableShards => _executor!.UnreachableShards;

    /// <summary>
    /// Loads the router's weights, binds the port and starts the scheduler, the shard discovery and the
    /// placement watch; returns once the API answers. Requests are served as soon as the shards are reachable.
    /// </summary>
    /// <param name="options">What to serve and where.</param>
    /// <param name="logging">Configures the logging (the console's by default), e.g. to record it in tests.</param>
    /// <param name="tracing">Further configuration of the tracer provider, e.g. an in-memory exporter in tests.</param>
    /// <param name="time">The clock of the API's timestamps, the expert-load window and the discovery intervals; the system clock when null.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    /// <exception cref="ModelConfigException">The model directory's <c>config.json</c> is missing or wrong.</exception>
    /// <exception cref="PlacementException">The placement file is not a valid placement for the model.</exception>
    /// <exception cref="IOException">A file cannot be read, or the port cannot be bound.</exception>
    public static async Task<RouterHost> StartAsync(
        RouterHostOptions options,
        Action<ILoggingBuilder>? logging = null,
        Action<TracerProviderBuilder>? tracing = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var host = new RouterHost(options, options.Model.LoadConfig());
        try
        {
            await host.StartServerAsync(logging, tracing, time ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return host;
    }

    /// <summary>Stops serving: requests in flight end, the port closes, and the weights are freed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loops is not null)
        {
            await _loops.WhenAllEnded().ConfigureAwait(false);
        }

        if (_app is not null)
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        if (_model is not null && _load is not null)
        {
            _model.Routed -= _load.Record;
        }

        _model?.Dispose();
        if (_executor is not null)
        {
            await _executor.DisposeAsync().ConfigureAwait(false);
        }

        _placementSource?.Dispose();
        _stopping.Dispose();
    }

    private async Task StartServerAsync(Action<ILoggingBuilder>? logging, Action<TracerProviderBuilder>? tracing, TimeProvider time, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        var address = IPAddress.Parse(_options.BindAddress);
        ListenOptions? api = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, _options.Port, listen =>
        {
            // Cleartext HTTP/2 needs prior knowledge, which OpenAI clients and curl do not assume: HTTP/1.1 only.
            listen.Protocols = HttpProtocols.Http1;
            api = listen;
        }));
        builder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        builder.Services.AddServingTelemetry(ServiceName, tracing);
        _app = builder.Build();
        var loggers = _app.Services.GetRequiredService<ILoggerFactory>();
        var logger = loggers.CreateLogger<RouterHost>();
        var model = _options.Model;

        var placement = model.PlacementPath is { } path
            ? (_placementSource = new PlacementSource(new PlacementSourceOptions { Path = path, Debounce = model.PlacementDebounce }, Config, loggers.CreateLogger<PlacementSource>(), time)).Current
            : model.GeneratePlacement(Config);
        _resolver = _options.Discovery.CreateResolver(placement.Shards, loggers, time);
        _executor = new RemoteExpertExecutor(
            new RemoteExpertOptions { Config = Config, WireDtype = _options.WireDtype, StepDeadline = _options.StepDeadline },
            placement,
            _resolver,
            Metrics,
            loggers.CreateLogger<RemoteExpertExecutor>(),
            time);

        var device = TorchRuntime.Device(model.Device);
        var started = time.GetTimestamp();
        _model = await Task.Run(
            () => model.ModelDirectory is { } directory
                ? ModelLoader.LoadRouter(directory, _executor, model.Dtype, device, cancellationToken: cancellationToken)
                : RouterModel.Synthetic(Config, model.Seed, model.Skew, _executor, model.Dtype, device),
            cancellationToken).ConfigureAwait(false);
        var tokenizer = model.ModelDirectory is { } modelDirectory
            ? TextTokenizers.Load(modelDirectory, Config.VocabSize)
            : new ByteTokenizer(Config.VocabSize, Config.BosTokenId ?? ByteTokenizer.DefaultBosTokenId, Config.EosTokenIds.Count > 0 ? Config.EosTokenIds[0] : ByteTokenizer.DefaultEosTokenId);
        var loadSeconds = time.GetElapsedTime(started).TotalSeconds;
        HostingLog.RouterLoaded(logger, model.EffectiveModelId, loadSeconds, placement.Revision, placement.Shards);

        _load = new ExpertLoadTracker(Config, _options.ExpertLoadWindow, time);
        _model.Routed += _load.Record;
        _batcher = new ContinuousBatcher(_model, [.. tokenizer.EosTokenIds], _options.Scheduler, Metrics, loggers.CreateLogger<ContinuousBatcher>());

        _app.MapOpenAiApi(new OpenAiApiOptions
        {
            ModelId = model.EffectiveModelId,
            Generator = _batcher,
            Tokenizer = tokenizer,
            Config = Config,
            Metrics = Metrics,
            ApiKey = _options.ApiKey,
            Time = time,
        });
        _app.MapMetrics("/metrics", Metrics.Registry);
        _app.MapGet("/healthz", Liveness);
        _app.MapGet("/readyz", Readiness);
        _app.MapGet("/v1/expert-load", ExpertLoad);
        _app.MapGet("/v1/placement", () => Results.Json(_executor!.PlacementState(_options.Model.EffectiveModelId)));
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        Endpoint = api!.IPEndPoint!;

        _loops = new BackgroundLoops(logger, _stopping.Token);
        _loops.Start("shard discovery", _resolver.RunAsync);
        _loops.Start("remote expert executor", stopping => _executor.RunAsync(Placements(placement, stopping), stopping));
        _loops.Start("scheduler", _batcher.RunAsync);
        HostingLog.RouterListening(logger, model.EffectiveModelId, Endpoint);
    }

    private IAsyncEnumerable<ExpertPlacement> Placements(ExpertPlacement initial, CancellationToken cancellationToken) =>
        _placementSource?.WatchAsync(cancellationToken) ?? Once(initial, cancellationToken);

    private static async IAsyncEnumerable<ExpertPlacement> Once(ExpertPlacement placement, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return placement;
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }

    private IResult Liveness() => _loops?.Failure is { } failure
        ? Results.Text(failure, statusCode: StatusCodes.Status503ServiceUnavailable)
        : Results.Text("alive");

    private IResult Readiness()
    {
        if (_loops?.Failure is { } failure)
        {
            return Results.Text(failure, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var unreachable = _executor!.UnreachableShards;
        return unreachable.Count == 0
            ? Results.Text($"serving placement revision {_executor.Placement.Revision}")
            : Results.Text($"expert shards without a reachable replica: {string.Join(", ", unreachable)} (placement revision {_executor.Placement.Revision})", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private IResult ExpertLoad()
    {
        var snapshot = JsonSerializer.SerializeToNode(_load!.Snapshot())!.AsObject();
        var body = new JsonObject
        {
            ["modelId"] = _options.Model.EffectiveModelId,
            ["placementRevision"] = _executor!.Placement.Revision,
        };
        foreach (var (name, value) in snapshot.ToList())
        {
            snapshot.Remove(name);
            body[name] = value;
        }

        return Results.Text(body.ToJsonString(), "application/json");
    }
}
