using System.Globalization;
using System.Net;
using System.Text;
using DeepSeekOperator.Api.Schema;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.Serving.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>One figure of <c>dsop bench autoscaler</c>.</summary>
/// <param name="Name">What was measured or computed.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Target">The most it may be, when it has a target.</param>
internal sealed record AutoscalerBenchmarkRow(string Name, double Value, string Unit, double? Target = null);

/// <summary>
/// The autoscaler's reaction time: from a step in the routers' load to the scale decision, through a real Prometheus.
/// Each slot is one router's metrics (the router's own <see cref="RouterMetrics"/>, <c>dsop_router_inflight_requests</c>,
/// served by an in-process endpoint) scraped every 5 s, and the autoscaler's decision path (the query
/// <see cref="MetricQueries.Router"/> through <see cref="PrometheusClient"/>, then <see cref="ReplicaCalculator"/>) run
/// every 15 s (the defaults of <c>spec.autoscaling</c>) from a random phase. A trial sets the load low (16 in flight,
/// one replica at the default target of 32), waits until Prometheus returns it, then steps it to 96 at a random time
/// within the first interval, and measures the time from the step to the first decision of more than one replica.
/// Slots run their trials side by side for a fixed time. HPA and KEDA cannot run here: their figures are computed from
/// their documented default periods.
/// </summary>
internal static class AutoscalerBenchmark
{
    /// <summary>Prometheus's scrape interval, the usual ServiceMonitor one.</summary>
    public static readonly TimeSpan ScrapeInterval = TimeSpan.FromSeconds(5);

    /// <summary>The HorizontalPodAutoscaler controller's default sync period (<c>--horizontal-pod-autoscaler-sync-period</c>).</summary>
    public static readonly TimeSpan HpaSyncPeriod = TimeSpan.FromSeconds(15);

    /// <summary>A KEDA ScaledObject's default <c>pollingInterval</c>.</summary>
    public static readonly TimeSpan KedaPollingInterval = TimeSpan.FromSeconds(30);

    private const string Namespace = "bench";
    private const double LowLoad = 16;
    private const double HighLoad = 96;

    /// <summary>Runs the trials and returns the figures.</summary>
    /// <param name="quick">Two slots for 45 s: checks the benchmark works; the figures mean little.</param>
    /// <param name="progress">Called with a line per trial.</param>
    /// <param name="time">The clock of every wait and measurement.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<IReadOnlyList<AutoscalerBenchmarkRow>> RunAsync(bool quick, Action<string> progress, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var spec = new AutoscalingSpec();
        var interval = GoDuration.Parse(spec.Interval);
        var slots = Enumerable.Range(0, quick ? 2 : 8).Select(slot => new Slot(string.Create(CultureInfo.InvariantCulture, $"slot{slot}"), new RouterMetrics(Metrics.NewCustomRegistry()))).ToList();
        var runFor = quick ? TimeSpan.FromSeconds(45) : TimeSpan.FromSeconds(150);

        await using var endpoint = await MetricsEndpoint.StartAsync(slots, cancellationToken).ConfigureAwait(false);
        var jobs = slots.Select(slot => new ScrapeJob(slot.Model, [new ScrapeTarget(endpoint.Address, new Dictionary<string, string>
        {
            ["namespace"] = Namespace,
            ["pod"] = slot.Model + "-router-5d8f7c9b4-x2k7q",
        })], "/metrics/" + slot.Model)).ToList();
        await using var prometheus = await PrometheusServer.StartAsync(jobs, ScrapeInterval, time).ConfigureAwait(false);
        using var http = new HttpClient();
        var client = new PrometheusClient(http, new PrometheusClientOptions { Server = prometheus.BaseAddress, Time = time });
        progress($"prometheus {prometheus.BaseAddress} scraping {slots.Count} router metric endpoints every {ScrapeInterval.TotalSeconds:0} s; autoscaler interval {interval.TotalSeconds:0} s; running {runFor.TotalSeconds:0} s");

        var started = time.GetTimestamp();
        var worst = interval + ScrapeInterval + interval;
        var results = await Task.WhenAll(slots.Select((slot, index) => TrialsAsync(
            slot, client, spec, interval, new Random(index + 8), () => time.GetElapsedTime(started) + worst <= runFor, progress, time, cancellationToken))).ConfigureAwait(false);
        var latencies = results.SelectMany(seconds => seconds).Order().ToList();
        if (latencies.Count == 0)
        {
            throw new InvalidOperationException("no trial finished: the run was too short for one");
        }

        var expected = (ScrapeInterval / 2) + (interval / 2);
        var hpaKedaExpected = (ScrapeInterval / 2) + (KedaPollingInterval / 2) + (HpaSyncPeriod / 2);
        var hpaKedaWorst = ScrapeInterval + KedaPollingInterval + HpaSyncPeriod;
        var median = latencies.Count % 2 == 1 ? latencies[latencies.Count / 2] : (latencies[(latencies.Count / 2) - 1] + latencies[latencies.Count / 2]) / 2;
        var target = (interval + ScrapeInterval).TotalSeconds;
        return
        [
            new("trials", latencies.Count, "trials"),
            new("step to decision, min", latencies[0], "s", target),
            new("step to decision, median", median, "s", target),
            new("step to decision, max", latencies[^1], "s", target),
            new("expected from the periods: scrape/2 + interval/2", expected.TotalSeconds, "s"),
            new("HPA 15 s sync + KEDA 30 s polling + 5 s scrape, expected (computed)", hpaKedaExpected.TotalSeconds, "s"),
            new("HPA 15 s sync + KEDA 30 s polling + 5 s scrape, worst case (computed)", hpaKedaWorst.TotalSeconds, "s"),
            new("median / HPA+KEDA expected", median / hpaKedaExpected.TotalSeconds, "ratio"),
            new("max / HPA+KEDA worst case", latencies[^1] / hpaKedaWorst.TotalSeconds, "ratio"),
        ];
    }

    /// <summary>The rows as a markdown table.</summary>
    public static string ToMarkdown(IEnumerable<AutoscalerBenchmarkRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder("| measurement | value | unit | target | met |\n|---|---:|---|---:|---|\n");
        foreach (var row in rows)
        {
            var target = row.Target is { } t ? "≤ " + t.ToString("0", CultureInfo.InvariantCulture) : "";
            var met = row.Target is { } bound ? (row.Value <= bound ? "yes" : "no") : "";
            text.Append(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Value:0.00} | {row.Unit} | {target} | {met} |\n");
        }

        return text.ToString();
    }

    // One slot's trials, one after another while another fits in the run; the latency of each, in seconds.
    private static async Task<List<double>> TrialsAsync(
        Slot slot, PrometheusClient client, AutoscalingSpec spec, TimeSpan interval, Random random, Func<bool> another, Action<string> progress, TimeProvider time, CancellationToken cancellationToken)
    {
        var query = MetricQueries.Router(RouterMetric.InflightRequests, Namespace, slot.Model);
        var latencies = new List<double>();
        while (another())
        {
            slot.Metrics.InflightRequests.Set(LowLoad);
            while (await TotalAsync(client, query, cancellationToken).ConfigureAwait(false) != LowLoad)
            {
                await Task.Delay(ScrapeInterval / 10, time, cancellationToken).ConfigureAwait(false);
            }

            // A fresh autoscaler (no recommendations yet) whose interval starts now + phase; the step within the first interval.
            var calculator = new ReplicaCalculator(time);
            var begin = time.GetTimestamp();
            var phase = TimeSpan.FromSeconds(random.NextDouble() * interval.TotalSeconds);
            var tick = phase;
            var stepAt = TimeSpan.FromSeconds(random.NextDouble() * interval.TotalSeconds);
            long? stepped = null;
            while (true)
            {
                var next = stepped is null && stepAt < tick ? stepAt : tick;
                var wait = next - time.GetElapsedTime(begin);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }

                if (stepped is null && next == stepAt)
                {
                    slot.Metrics.InflightRequests.Set(HighLoad);
                    stepped = time.GetTimestamp();
                    continue;
                }

                var total = await TotalAsync(client, query, cancellationToken).ConfigureAwait(false);
                var decision = calculator.Decide("router", 1, total, spec.Routers, spec.Behavior);
                tick += interval;
                if (stepped is { } step && decision.Desired > 1)
                {
                    var seconds = time.GetElapsedTime(step).TotalSeconds;
                    latencies.Add(seconds);
                    progress(string.Create(CultureInfo.InvariantCulture, $"  {slot.Model}: load {LowLoad} → {HighLoad} at {stepAt.TotalSeconds:0.0} s, autoscaler every {interval.TotalSeconds:0} s from {phase.TotalSeconds:0.0} s: 1 → {decision.Desired} replicas after {seconds:0.00} s"));
                    break;
                }
            }
        }

        return latencies;
    }

    private static async Task<double> TotalAsync(PrometheusClient client, string query, CancellationToken cancellationToken) =>
        await client.QueryAsync(query, cancellationToken: cancellationToken).ConfigureAwait(false) switch
        {
            PrometheusVector { Samples: [var sample] } => sample.Value,
            PrometheusVector => double.NaN,
            var other => throw new InvalidOperationException($"{query} answered {other.GetType().Name}, not a vector"),
        };

    private sealed record Slot(string Model, RouterMetrics Metrics);

    // Every slot's router metrics, at /metrics/<model>, on a free loopback port.
    private sealed class MetricsEndpoint(WebApplication app) : IAsyncDisposable
    {
        public string Address { get; } = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Authority;

        public static async Task<MetricsEndpoint> StartAsync(IReadOnlyList<Slot> slots, CancellationToken cancellationToken)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var registries = slots.ToDictionary(slot => slot.Model, slot => slot.Metrics.Registry, StringComparer.Ordinal);
            app.MapGet("/metrics/{model}", async (HttpContext context, string model) =>
            {
                if (!registries.TryGetValue(model, out var registry))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }

                context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            });
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return new MetricsEndpoint(app);
        }

        public async ValueTask DisposeAsync() => await app.DisposeAsync().ConfigureAwait(false);
    }
}
