using System.Text.RegularExpressions;

namespace DeepSeekOperator.Observability.Tests;

/// <summary>
/// Every dashboard query, and every metric the dashboards and alerts name, against a real Prometheus scraping a
/// router and shards under load and the operator (<see cref="LiveCluster"/>).
/// </summary>
public sealed partial class LiveQueriesTests(LiveCluster cluster) : IClassFixture<LiveCluster>
{
    // Rates over 30 s of 1 s scrapes, where Grafana would put its $__rate_interval.
    private const string RateInterval = "30s";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task EveryDashboardPanelQuery_ReturnsData()
    {
        var queries = MonitoringFiles.DashboardFiles.Select(Path.GetFileName).SelectMany(name => MonitoringFiles.Queries(name!)).ToList();

        // The rebalancer's gauge appears once the model is Ready and it has read the router's load: wait for it once.
        await cluster.WaitForDataAsync("dsop_placement_imbalance_ratio", Patience);
        var empty = new List<string>();
        foreach (var (where, expr) in queries)
        {
            var query = Substitute(expr);
            if (await cluster.WaitForDataAsync(query, TimeSpan.FromSeconds(5)) == 0)
            {
                empty.Add($"{where}: {query}");
            }
        }

        Assert.True(empty.Count == 0, $"{empty.Count} of {queries.Count} queries returned no data:\n{string.Join("\n", empty)}\n{cluster.Output}");
    }

    [Fact]
    public async Task RebalanceAnnotationQuery_IsAcceptedByPrometheus()
    {
        var (_, expr) = Assert.Single(MonitoringFiles.AnnotationQueries("experts.json"));

        // No rebalance happens here, so no data: SeriesAsync fails on an error answer, and the revision it watches is there.
        await cluster.SeriesAsync(Substitute(expr));
        Assert.True(await cluster.WaitForDataAsync(Substitute("max(dsop_router_placement_revision{namespace=\"$namespace\", model=\"$model\"})"), Patience) > 0);
    }

    [Theory]
    [MemberData(nameof(MonitoringFiles.DashboardNames), MemberType = typeof(MonitoringFiles))]
    public async Task TemplateVariables_OfferTheScrapedNamespaceAndModel(string name)
    {
        var variables = MonitoringFiles.Dashboard(name)["templating"]!["list"]!.AsArray();
        foreach (var (label, value) in new[] { ("namespace", LiveCluster.Namespace), ("model", LiveCluster.Model) })
        {
            var definition = (string)variables.Single(v => (string?)v!["name"] == label)!["definition"]!;
            var match = LabelValues().Match(definition);
            Assert.True(match.Success, definition);

            await cluster.WaitForDataAsync(Substitute(match.Groups["selector"].Value), Patience);
            Assert.Contains(value, await cluster.LabelValuesAsync(match.Groups["label"].Value, Substitute(match.Groups["selector"].Value)));
        }
    }

    [Fact]
    public async Task EveryMetricTheDashboardsAndAlertsName_IsScrapedFromTheRouterShardsOrOperator()
    {
        var named = MonitoringFiles.DashboardFiles.Select(Path.GetFileName)
            .SelectMany(name => MonitoringFiles.Queries(name!).Concat(MonitoringFiles.AnnotationQueries(name!)))
            .Select(q => q.Expr)
            .Concat(MonitoringFiles.Alerts().Select(a => MonitoringFiles.Scalar(a, "expr")!))
            .SelectMany(MonitoringFiles.MetricNames)
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(named);

        // The operator's gauges of a Ready, autoscaled, rebalanced model are the last to appear.
        await cluster.WaitForDataAsync("dsop_placement_imbalance_ratio", Patience);
        await cluster.WaitForDataAsync("dsop_autoscaler_metric_value", Patience);
        var scraped = await cluster.MetricNamesAsync();

        Assert.Empty(named.Where(metric => !scraped.Contains(metric)).Order(StringComparer.Ordinal));
    }

    private static string Substitute(string expr) => expr
        .Replace("$__rate_interval", RateInterval, StringComparison.Ordinal)
        .Replace("$namespace", LiveCluster.Namespace, StringComparison.Ordinal)
        .Replace("$model", LiveCluster.Model, StringComparison.Ordinal);

    [GeneratedRegex(@"^label_values\((?<selector>[^,]+), (?<label>[a-z_]+)\)$")]
    private static partial Regex LabelValues();
}
