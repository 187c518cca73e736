using System.Diagnostics;
using System.Net;
using DeepSeekOperator.Controller.Prometheus;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Prometheus;

/// <summary>
/// A real Prometheus scraping a prometheus-net endpoint every second, queried through <see cref="PrometheusClient"/>:
/// a gauge of in-flight requests per component and shard, and a counter raised by 10 on every scrape.
/// </summary>
public sealed class RealPrometheusTests(RealPrometheusTests.Scraped scraped) : IClassFixture<RealPrometheusTests.Scraped>
{
    private const string Gauge = "dsop_test_inflight_requests";
    private const string Counter = "dsop_test_tokens_total";

    [Fact]
    public async Task Gauge_InstantVectorHasEverySeriesWithItsScrapeLabels()
    {
        var vector = await scraped.Client.QueryVectorAsync(Gauge);

        // Prometheus drops empty labels: the router's series has no shard label.
        var values = vector.Samples.ToDictionary(s => (s.Labels["component"], s.Labels.GetValueOrDefault("shard", "")), s => s.Value);
        Assert.Equal(new Dictionary<(string, string), double> { [("router", "")] = 3, [("shard", "0")] = 5, [("shard", "1")] = 7 }, values);
        Assert.All(vector.Samples, s => Assert.Equal(("test", scraped.Endpoint.Address, Gauge), (s.Labels["job"], s.Labels["instance"], s.Labels["__name__"])));
        Assert.Empty(vector.Warnings);
    }

    [Fact]
    public async Task SumBy_AddsUpTheShards()
    {
        var vector = await scraped.Client.QueryVectorAsync($"sum by (component) ({Gauge})");

        Assert.Equal(
            new Dictionary<string, double> { ["router"] = 3, ["shard"] = 12 },
            vector.Samples.ToDictionary(s => Assert.Single(s.Labels).Value, s => s.Value));
    }

    [Fact]
    public async Task Rate_OfACounterRaisedByTenEveryScrape_IsAboutTenPerSecond()
    {
        // rate() divides by its whole window, so it reads the true rate once the window is full of samples.
        var full = $"count_over_time({Counter}[4s]) >= 4";
        var waited = Stopwatch.StartNew();
        while ((await scraped.Client.QueryVectorAsync(full)).Samples.Count == 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), "four scrapes within 20 s\n" + scraped.Prometheus.Output);
            await Task.Delay(scraped.Prometheus.ScrapeInterval / 4);
        }

        var vector = await scraped.Client.QueryVectorAsync($"rate({Counter}[4s])");

        Assert.InRange(Assert.Single(vector.Samples).Value, 8, 12);
    }

    [Fact]
    public async Task Scalar_OfTheSum()
    {
        var scalar = await scraped.Client.QueryScalarAsync($"scalar(sum({Gauge}))");

        Assert.Equal(15, scalar.Value);
    }

    [Fact]
    public async Task LongQuery_SentAsAPostForm_IsAnsweredLikeAShortOne()
    {
        var shards = string.Join('|', Enumerable.Range(0, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var query = $"sum({Gauge}{{shard=~\"{shards}\"}})";
        Assert.True(Uri.EscapeDataString(query).Length > PrometheusClient.MaxGetQueryLength);

        var vector = await scraped.Client.QueryVectorAsync(query);

        Assert.Equal(12, Assert.Single(vector.Samples).Value);
    }

    [Fact]
    public async Task RangeSelector_IsRefusedAsAMatrix()
    {
        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => scraped.Client.QueryAsync($"{Gauge}[1m]"));

        Assert.Equal(PrometheusFailure.UnexpectedResultType, error.Failure);
        Assert.Contains("data.resultType is \"matrix\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyntaxError_IsPrometheusOwnParseErrorWithTheQuery()
    {
        var query = $"sum(rate({Counter}[5s])";

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => scraped.Client.QueryVectorAsync(query));

        Assert.Equal(PrometheusFailure.QueryError, error.Failure);
        Assert.Equal("bad_data", error.ErrorType);
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("bad_data: invalid parameter \"query\": 1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("parse error", error.Message, StringComparison.Ordinal);
        Assert.Contains($"query '{query}'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The endpoint, Prometheus scraping it, and a client of that Prometheus, shared by the class's tests.</summary>
    public sealed class Scraped : IAsyncLifetime
    {
        private static readonly HttpClient Http = new();

        internal MetricsEndpoint Endpoint { get; private set; } = null!;

        internal PrometheusServer Prometheus { get; private set; } = null!;

        public PrometheusClient Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var registry = Metrics.NewCustomRegistry();
            var factory = Metrics.WithCustomRegistry(registry);
            var gauge = factory.CreateGauge(Gauge, "In-flight requests.", "component", "shard");
            gauge.WithLabels("router", "").Set(3);
            gauge.WithLabels("shard", "0").Set(5);
            gauge.WithLabels("shard", "1").Set(7);
            var counter = factory.CreateCounter(Counter, "Tokens.");
            registry.AddBeforeCollectCallback(() => counter.Inc(10));
            Endpoint = await MetricsEndpoint.StartAsync(registry);
            Prometheus = await PrometheusServer.StartAsync([new ScrapeJob("test", [new ScrapeTarget(Endpoint.Address)])]);
            await Prometheus.WaitUntilScrapedAsync([Endpoint.Address], TimeSpan.FromSeconds(20));
            Client = new PrometheusClient(Http, new PrometheusClientOptions { Server = Prometheus.BaseAddress });
        }

        public async Task DisposeAsync()
        {
            if (Prometheus is not null)
            {
                await Prometheus.DisposeAsync();
            }

            if (Endpoint is not null)
            {
                await Endpoint.DisposeAsync();
            }
        }
    }
}
