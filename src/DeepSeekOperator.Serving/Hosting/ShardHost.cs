using System.Net;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Hosting.Internal;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Shard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using Prometheus;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Hosting;

/// <summary>
/// The expert shard process (<c>dsop shard</c>): serves <see cref="ExpertShardService"/> on a gRPC port
/// (HTTP/2 cleartext) and <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c> on a second port (HTTP/1.1).
/// The ports answer at once; the experts of the placement load behind them, and <c>/readyz</c> says 200 once
/// they serve. A new revision of a watched placement file is loaded, then served beside the previous one.
/// </summary>
public sealed class ShardHost : IAsyncDisposable
{
    /// <summary>The tracing service name when <c>OTEL_SERVICE_NAME</c> is not set.</summary>
    public const string ServiceName = "dsop-shard";

    private readonly ShardHostOptions _options;
    private readonly ModelConfig _config;
    private readonly Device _device;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;
    private PlacementSource? _placementSource;
    private ExpertPlacement _initial = null!;
    private ILogger _logger = null!;
    private Task _serving = Task.CompletedTask;
    private int _disposed;
    private volatile string _state = "the placement is not read yet";

    private ShardHost(ShardHostOptions options, ModelConfig config, Device device, TimeProvider time)
    {
        _options = options;
        _config = config;
        _device = device;
        _time = time;
        Metrics = new ShardMetrics(Prometheus.Metrics.NewCustomRegistry());
        Revisions = new ShardRevisions(new ExpertShardOptions
        {
            ShardIndex = options.ShardIndex,
            Config = config,
            Dtype = options.Model.Dtype == ScalarType.BFloat16 ? TensorDtype.Bfloat16 : TensorDtype.Float32,
            Device = device,
        });
    }

    /// <summary>The bound gRPC endpoint (its port is the free one chosen when the option was 0).</summary>
    public IPEndPoint GrpcEndpoint { get; private set; } = null!;

    /// <summary>The bound endpoint of <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>.</summary>
    public IPEndPoint MetricsEndpoint { get; private set; } = null!;

    /// <summary>The placement revisions served and their experts.</summary>
    public ShardRevisions Revisions { get; }

    /// <summary>The shard's metrics, served at <c>/metrics</c>.</summary>
    public ShardMetrics Metrics { get; }

    /// <summary>The placement read (or generated) at start; <see cref="Revisions"/> says what is served now.</summary>
    public ExpertPlacement InitialPlacement => _initial;

    /// <summary>Completes once the experts of <see cref="InitialPlacement"/> are served; faults with the error if they cannot be loaded.</summary>
    public Task Ready => _ready.Task;

    /// <summary>
    /// Reads the model's architecture and the placement, binds both ports and starts loading the experts;
    /// returns once the ports answer, without waiting for the experts (see <see cref="Ready"/>).
    /// </summary>
    /// <param name="options">What to serve and where.</param>
    /// <param name="logging">Configures the logging (the console's by default), e.g. to record it in tests.</param>
    /// <param name="tracing">Further configuration of the tracer provider, e.g. an in-memory exporter in tests.</param>
    /// <param name="time">The clock of load times and of the placement file's debounce; the system clock when null.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message names it), or the placement has no shard of this index.</exception>
    /// <exception cref="InvalidOperationException">The device asked for is not available.</exception>
    /// <exception cref="ModelConfigException">The model directory's <c>config.json</c> is missing or wrong.</exception>
    /// <exception cref="PlacementException">The placement file is not a valid placement for the model.</exception>
    /// <exception cref="IOException">The placement file cannot be read, or a port cannot be bound.</exception>
    public static async Task<ShardHost> StartAsync(
        ShardHostOptions options,
        Action<ILoggingBuilder>? logging = null,
        Action<TracerProviderBuilder>? tracing = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var device = TorchRuntime.Device(options.Model.Device);
        var config = options.Model.LoadConfig();
        var host = new ShardHost(options, config, device, time ?? TimeProvider.System);
        try
        {
            await host.StartServerAsync(logging, tracing, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return host;
    }

    /// <summary>Stops serving: the ports close, the placement file is no longer watched and the experts are freed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _serving.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped while loading.
        }

        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _placementSource?.Dispose();
        Revisions.Dispose();
        _stopping.Dispose();
        _ready.TrySetCanceled();
    }

    private async Task StartServerAsync(Action<ILoggingBuilder>? logging, Action<TracerProviderBuilder>? tracing, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        // ASP.NET Core logs every request at Information: one line per MoE layer step is noise.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        var address = IPAddress.Parse(_options.BindAddress);
        ListenOptions? grpc = null, metrics = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            ShardKestrel.SizeForSteps(kestrel, _options.MaxMessageBytes);
            kestrel.Listen(address, _options.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                grpc = listen;
            });
            kestrel.Listen(address, _options.MetricsPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                metrics = listen;
            });
        });
        builder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        builder.Services.AddGrpc(grpcOptions =>
        {
            grpcOptions.MaxReceiveMessageSize = _options.MaxMessageBytes;
            grpcOptions.MaxSendMessageSize = _options.MaxMessageBytes;
        });
        builder.Services.AddSingleton(Revisions);
        builder.Services.AddSingleton(Metrics);
        builder.Services.AddSingleton<ExpertShardService>();
        builder.Services.AddServingTelemetry(ServiceName, tracing);

        _app = builder.Build();
        _logger = _app.Services.GetRequiredService<ILogger<ShardHost>>();
        _initial = ReadPlacement(_app.Services.GetRequiredService<ILogger<PlacementSource>>());
        _state = $"the experts of placement revision {_initial.Revision} are not loaded yet";
        // gRPC needs HTTP/2, which only the gRPC port speaks; the probes and /metrics answer there too, harmlessly.
        _app.MapGrpcService<ExpertShardService>();
        _app.MapMetrics("/metrics", Metrics.Registry);
        _app.MapGet("/healthz", () => "alive");
        _app.MapGet("/readyz", Readiness);
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        GrpcEndpoint = grpc!.IPEndPoint!;
        MetricsEndpoint = metrics!.IPEndPoint!;
        HostingLog.Listening(_logger, _options.ShardIndex, _initial.Shards, GrpcEndpoint, MetricsEndpoint);
        _serving = Task.Run(() => ServeAsync(_stopping.Token), CancellationToken.None);
    }

    private ExpertPlacement ReadPlacement(ILogger<PlacementSource> logger)
    {
        ExpertPlacement placement;
        if (_options.Model.PlacementPath is { } path)
        {
            _placementSource = new PlacementSource(new PlacementSourceOptions { Path = path, Debounce = _options.Model.PlacementDebounce }, _config, logger, _time);
            placement = _placementSource.Current;
        }
        else
        {
            placement = _options.Model.GeneratePlacement(_config);
        }

        return _options.ShardIndex < placement.Shards
            ? placement
            : throw new ArgumentException($"ShardIndex {_options.ShardIndex} is not a shard of placement revision {placement.Revision}, which has {placement.Shards}");
    }

    private IResult Readiness()
    {
        var served = Revisions.Revisions;
        return served.Count > 0
            ? Results.Text($"serving placement revision {string.Join(", ", served)}")
            : Results.Text(_state, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private async Task ServeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await LoadAsync(_initial, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ready.TrySetCanceled(cancellationToken);
            return;
        }
        catch (Exception e)
        {
            _state = $"loading the experts of placement revision {_initial.Revision} failed: {e.Message}";
            HostingLog.LoadFailed(_logger, _initial.Revision, e);
            _ready.TrySetException(e);
            return;
        }

        _ready.TrySetResult();
        if (_placementSource is null)
        {
            return;
        }

        await foreach (var placement in _placementSource.WatchAsync(cancellationToken).ConfigureAwait(false))
        {
            var newest = Revisions.Newest!.Placement.Revision;
            if (placement.Revision <= newest)
            {
                if (placement.Revision < newest)
                {
                    HostingLog.RevisionIgnored(_logger, placement.Revision, $"it is older than revision {newest}, the newest served");
                }

                continue;
            }

            if (_options.ShardIndex >= placement.Shards)
            {
                HostingLog.RevisionIgnored(_logger, placement.Revision, $"it has {placement.Shards} shards, none of index {_options.ShardIndex}");
                continue;
            }

            try
            {
                await LoadAsync(placement, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                HostingLog.LoadFailed(_logger, placement.Revision, e);
            }
        }
    }

    private async Task LoadAsync(ExpertPlacement placement, CancellationToken cancellationToken)
    {
        var locator = new ExpertLocator(placement, _config);
        HostingLog.Loading(_logger, _options.ShardIndex, placement.Revision);
        var started = _time.GetTimestamp();
        var executor = await Task.Run(() => LoadExperts(locator, cancellationToken), cancellationToken).ConfigureAwait(false);
        try
        {
            Revisions.Add(locator, executor);
        }
        catch
        {
            executor.Dispose();
            throw;
        }

        var loadTime = _time.GetElapsedTime(started);
        var served = Revisions.Revisions;
        Metrics.PlacementRevision.Set(placement.Revision);
        HostingLog.Serving(_logger, _options.ShardIndex, placement.Revision, placement.ModelId, placement.SlotsPerShard, _config.MoeLayers.Count, loadTime.TotalSeconds, served);
    }

    private LocalExpertExecutor LoadExperts(ExpertLocator locator, CancellationToken cancellationToken) =>
        _options.Model.ModelDirectory is { } directory
            ? ShardExperts.Load(directory, locator, _options.ShardIndex, _options.Model.Dtype, _device, cancellationToken: cancellationToken)
            : ShardExperts.Synthetic(_config, _options.Model.Seed, locator, _options.ShardIndex, _options.Model.Skew, _options.Model.Dtype, _device);
}
