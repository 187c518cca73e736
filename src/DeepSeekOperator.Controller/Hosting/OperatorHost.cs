using System.Net;
using DeepSeekOperator.Controller.Hosting.Internal;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Controller.Hosting;

/// <summary>
/// The operator process (controller-runtime's manager): it elects a leader among its replicas on a coordination.k8s.io
/// Lease with KubernetesClient's <see cref="LeaderElector"/>, and only the leader runs the controllers, built afresh
/// from their factories for each term of leadership. It serves <c>/healthz</c>, <c>/readyz</c> (200 on a standby, and on
/// the leader once its caches have synced) and <c>/metrics</c> (the controllers' registry and <c>dsop_leader</c>) on one
/// port. Losing leadership stops the controllers and, unless <see cref="OperatorHostOptions.ExitOnLostLeadership"/> is
/// off, the host; stopping gives the lease up, so that a standby takes over at once.
/// </summary>
public sealed class OperatorHost : IAsyncDisposable
{
    private readonly OperatorHostOptions options;
    private readonly IReadOnlyList<ControllerFactory> factories;
    private readonly TimeProvider time;
    private readonly Kubernetes client;
    private readonly string leaseNamespace;
    private readonly Gauge leader;
    private readonly CancellationTokenSource stopping = new();
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? app;
    private ILoggerFactory loggerFactory = null!;
    private ILogger logger = null!;
    private Task electing = Task.CompletedTask;
    private volatile Term? term;
    private volatile string? observedLeader;
    private Exception? failure;
    private bool everLed;
    private int disposed;

    private OperatorHost(OperatorHostOptions options, IReadOnlyList<ControllerFactory> factories, KubernetesClientConfiguration configuration, TimeProvider time)
    {
        this.options = options;
        this.factories = factories;
        this.time = time;
        client = new Kubernetes(configuration);
        leaseNamespace = options.LeaseNamespace ?? configuration.Namespace ?? "default";
        Registry = Metrics.NewCustomRegistry();
        leader = Metrics.WithCustomRegistry(Registry).CreateGauge("dsop_leader", "1 while this operator replica holds the leader Lease, 0 otherwise.");
    }

    /// <summary>This replica's name in the Lease.</summary>
    public string Identity => options.Identity;

    /// <summary>The Lease elected on, as <c>namespace/name</c>.</summary>
    public string Lease => $"{leaseNamespace}/{options.LeaseName}";

    /// <summary>The bound endpoint of <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> (its port is the free one chosen when the option was 0).</summary>
    public IPEndPoint Endpoint { get; private set; } = null!;

    /// <summary>The registry served at <c>/metrics</c>, given to the controller factories.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Whether this replica leads now (its controllers run, or are starting).</summary>
    public bool IsLeader => term is not null;

    /// <summary>
    /// Completes when the host has stopped electing: after <see cref="DisposeAsync"/>, or by itself, faulted, when
    /// leadership was lost and <see cref="OperatorHostOptions.ExitOnLostLeadership"/> is set
    /// (<see cref="InvalidOperationException"/>) or a controller failed (its exception). The caller then disposes the host
    /// and exits with an error, so that a fresh process starts.
    /// </summary>
    public Task Completion => completion.Task;

    /// <summary>
    /// Connects to the cluster, binds the port and starts electing; returns once the port answers, without waiting for
    /// leadership.
    /// </summary>
    /// <param name="options">Where to serve, which cluster and which Lease.</param>
    /// <param name="controllers">The controllers the leader runs, as factories called at the start of each term.</param>
    /// <param name="logging">Configures the logging (the console's by default), e.g. to silence it in tests.</param>
    /// <param name="time">The clock of the host's own waits; the system clock when null (the elector keeps real time).</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="ArgumentException">An option is out of range (the message names it), or no controller is given.</exception>
    /// <exception cref="k8s.Exceptions.KubeConfigException">No kubeconfig or in-cluster configuration can be loaded.</exception>
    /// <exception cref="IOException">The port cannot be bound.</exception>
    public static async Task<OperatorHost> StartAsync(
        OperatorHostOptions options,
        IReadOnlyList<ControllerFactory> controllers,
        Action<ILoggingBuilder>? logging = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(controllers);
        options.Validate();
        if (controllers.Count == 0)
        {
            throw new ArgumentException("At least one controller is needed", nameof(controllers));
        }

        var configuration = options.Kubeconfig is { } path
            ? KubeconfigFile.Load(path)
            : KubernetesClientConfiguration.BuildDefaultConfig();
        var host = new OperatorHost(options, controllers, configuration, time ?? TimeProvider.System);
        try
        {
            await host.StartServerAsync(logging, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return host;
    }

    /// <summary>
    /// Stops gracefully: the election ends, the controllers finish the reconciles in flight, the lease is given up when
    /// <see cref="OperatorHostOptions.ReleaseOnStop"/> is set, and the port closes.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await electing.ConfigureAwait(false);
        if (app is not null)
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }

        client.Dispose();
        stopping.Dispose();
        completion.TrySetResult();
    }

    private async Task StartServerAsync(Action<ILoggingBuilder>? logging, CancellationToken cancellationToken)
    {
        // The empty builder and what the operator uses of the slim one's defaults: configuration from environment
        // variables (Logging__LogLevel__Default and the like), console logging, Kestrel and routing. The slim builder
        // also reads appsettings.json with reload on change, which watches the working directory and every directory
        // under it (hundreds of inotify watches from a source tree, the whole image from /) for a file the operator
        // never has.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Configuration.AddEnvironmentVariables();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging")).AddSimpleConsole();
        // ASP.NET Core logs every request at Information: one line per probe is noise.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging?.Invoke(builder.Logging);
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore();
        ListenOptions? listening = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(options.BindAddress), options.Port, listen => listening = listen));
        builder.Services.AddSingleton<IHostLifetime, CallerLifetime>();
        app = builder.Build();
        // Plain request delegates: a handler of any other shape is compiled from expression trees at start-up, which
        // costs the operator a few MB of code and loaded assemblies for three fixed answers.
        app.MapGet("/healthz", context => WriteTextAsync(context, StatusCodes.Status200OK, "alive"));
        app.MapGet("/readyz", context =>
        {
            var (status, text) = Readiness();
            return WriteTextAsync(context, status, text);
        });
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        Endpoint = listening!.IPEndPoint!;
        loggerFactory = app.Services.GetRequiredService<ILoggerFactory>();
        logger = loggerFactory.CreateLogger<OperatorHost>();
        HostingLog.Listening(logger, Identity, Endpoint, Lease);
        electing = Task.Run(ElectAsync, CancellationToken.None);
    }

    private static Task WriteTextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }

    private (int Status, string Text) Readiness()
    {
        if (term is { } leading)
        {
            return leading.HasSynced
                ? (StatusCodes.Status200OK, "leading; the caches have synced")
                : (StatusCodes.Status503ServiceUnavailable, "leading; waiting for the caches to sync");
        }

        return stopping.IsCancellationRequested
            ? (StatusCodes.Status503ServiceUnavailable, "stopping")
            : (StatusCodes.Status200OK, $"standing by; the lease is held by {observedLeader ?? "nobody yet"}");
    }

    // Stands for the lease until stopped: each term of leadership runs the controllers until it ends.
    private async Task ElectAsync()
    {
        var token = stopping.Token;
        while (!token.IsCancellationRequested)
        {
            if (!await LeadOnceAsync(token).ConfigureAwait(false) || token.IsCancellationRequested)
            {
                continue;
            }

            if (options.ExitOnLostLeadership)
            {
                HostingLog.LostLeadership(logger, Lease);
                Stop(new InvalidOperationException($"Lost leadership on Lease {Lease}"));
            }
            else
            {
                HostingLog.StandingBy(logger, Lease);
            }
        }

        if (options.ReleaseOnStop && everLed)
        {
            await ReleaseAsync().ConfigureAwait(false);
        }

        if (Volatile.Read(ref failure) is { } failed)
        {
            completion.TrySetException(failed);
        }
        else
        {
            completion.TrySetResult();
        }
    }

    // Acquires the lease and holds it until it is lost or the host stops; returns whether this replica led.
    private async Task<bool> LeadOnceAsync(CancellationToken token)
    {
        Term? led = null;
        var config = new LeaderElectionConfig(new LeaseLock(client, leaseNamespace, options.LeaseName, options.Identity))
        {
            LeaseDuration = options.LeaseDuration,
            RenewDeadline = options.RenewDeadline,
            RetryPeriod = options.RetryPeriod,
        };
        using var elector = new LeaderElector(config);
        elector.OnStartedLeading += () => led = Begin(token);
        elector.OnStoppedLeading += () => End(led);
        elector.OnNewLeader += holder =>
        {
            observedLeader = holder;
            HostingLog.NewLeader(logger, Lease, holder);
        };
        elector.OnError += exception => HostingLog.ElectionError(logger, Lease, exception);
        try
        {
            await elector.RunUntilLeadershipLostAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Stopping.
        }
        catch (Exception exception)
        {
            HostingLog.ElectionFailed(logger, Lease, options.RetryPeriod, exception);
            if (led is null)
            {
                await Task.Delay(options.RetryPeriod, time, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        finally
        {
            if (led is not null)
            {
                End(led);
                await led.Running.ConfigureAwait(false);
                led.Dispose();
            }
        }

        return led is not null;
    }

    private Term Begin(CancellationToken token)
    {
        var led = new Term(token);
        everLed = true;
        term = led;
        leader.Set(1);
        HostingLog.StartedLeading(logger, Lease, factories.Count);
        led.Running = Task.Run(() => RunControllersAsync(led), CancellationToken.None);
        return led;
    }

    private void End(Term? led)
    {
        if (led is null || !led.End())
        {
            return;
        }

        term = null;
        leader.Set(0);
        HostingLog.StoppedLeading(logger, Lease);
    }

    private async Task RunControllersAsync(Term led)
    {
        List<ManagedController> managed;
        try
        {
            managed = [.. factories.Select(factory => factory(client, loggerFactory, Registry))];
        }
        catch (Exception exception)
        {
            Fail(exception);
            return;
        }

        led.Informers = [.. managed.SelectMany(controller => controller.Informers)];
        await Task.WhenAll(led.Informers.Select(informer => GuardAsync(informer.RunAsync, led.Token))
            .Concat(managed.Select(controller => GuardAsync(controller.Controller.RunAsync, led.Token)))).ConfigureAwait(false);
    }

    private async Task GuardAsync(Func<CancellationToken, Task> run, CancellationToken token)
    {
        try
        {
            await run(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The term ended.
        }
        catch (Exception exception)
        {
            Fail(exception);
        }
    }

    private void Fail(Exception exception)
    {
        HostingLog.ControllerFailed(logger, exception);
        Stop(exception);
    }

    private void Stop(Exception reason)
    {
        Interlocked.CompareExchange(ref failure, reason, null);
        stopping.Cancel();
    }

    // Gives the lease up as client-go does on ReleaseOnCancel: an empty holder, which a standby may take at once.
    private async Task ReleaseAsync()
    {
        using var deadline = new CancellationTokenSource(options.RenewDeadline, time);
        var lease = new LeaseLock(client, leaseNamespace, options.LeaseName, options.Identity);
        try
        {
            // A renewal still in flight when the elector stopped may win the first write; then the lease is read again.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var record = await lease.GetAsync(deadline.Token).ConfigureAwait(false);
                if (record.HolderIdentity != options.Identity)
                {
                    return;
                }

                var now = time.GetUtcNow().UtcDateTime;
                var released = new LeaderElectionRecord
                {
                    HolderIdentity = "",
                    LeaseDurationSeconds = 1,
                    AcquireTime = now,
                    RenewTime = now,
                    LeaderTransitions = record.LeaderTransitions,
                };
                if (await lease.UpdateAsync(released, deadline.Token).ConfigureAwait(false))
                {
                    HostingLog.Released(logger, Lease);
                    return;
                }
            }

            HostingLog.ReleaseFailed(logger, Lease, null);
        }
        catch (Exception exception) when (exception is HttpOperationException or HttpRequestException or OperationCanceledException)
        {
            HostingLog.ReleaseFailed(logger, Lease, exception);
        }
    }

    // One term of leadership: the controllers built for it, and what ends it.
    private sealed class Term(CancellationToken stopping) : IDisposable
    {
        private readonly CancellationTokenSource ending = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        private volatile IReadOnlyList<IInformer>? informers;
        private int ended;

        public CancellationToken Token => ending.Token;

        public Task Running { get; set; } = Task.CompletedTask;

        // Null until the controllers are built.
        public IReadOnlyList<IInformer>? Informers
        {
            get => informers;
            set => informers = value;
        }

        public bool HasSynced => informers is { } built && built.All(informer => informer.HasSynced);

        // Ends the term; false when it had already ended.
        public bool End()
        {
            if (Interlocked.Exchange(ref ended, 1) != 0)
            {
                return false;
            }

            ending.Cancel();
            return true;
        }

        public void Dispose() => ending.Dispose();
    }
}
