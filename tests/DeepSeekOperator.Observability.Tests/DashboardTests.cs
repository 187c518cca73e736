using System.Text.Json.Nodes;

namespace DeepSeekOperator.Observability.Tests;

/// <summary>The Grafana dashboards: valid JSON Grafana 11 imports, on a chosen Prometheus, for a chosen model.</summary>
public sealed class DashboardTests
{
    private const string DatasourceUid = "${datasource}";

    [Fact]
    public void DashboardDirectory_HoldsTheThreeDashboards()
    {
        Assert.Equal(["experts.json", "model-serving.json", "operator.json"], MonitoringFiles.DashboardFiles.Select(Path.GetFileName));
    }

    [Theory]
    [MemberData(nameof(MonitoringFiles.DashboardNames), MemberType = typeof(MonitoringFiles))]
    public void Dashboard_IsJsonOfSchemaVersion39OrLaterWithAUniqueUid(string name)
    {
        var dashboard = MonitoringFiles.Dashboard(name);

        Assert.True((int)dashboard["schemaVersion"]! >= 39, $"{name}: schemaVersion {dashboard["schemaVersion"]}");
        Assert.StartsWith("dsop-", (string)dashboard["uid"]!, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace((string?)dashboard["title"]));
        var ids = dashboard["panels"]!.AsArray().Select(p => (int)p!["id"]!).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Dashboards_HaveDistinctUids()
    {
        var uids = MonitoringFiles.DashboardFiles.Select(f => (string)JsonNode.Parse(File.ReadAllText(f))!["uid"]!).ToList();

        Assert.Equal(uids.Count, uids.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(MonitoringFiles.DashboardNames), MemberType = typeof(MonitoringFiles))]
    public void Dashboard_HasDatasourceNamespaceAndModelVariables(string name)
    {
        var variables = MonitoringFiles.Dashboard(name)["templating"]!["list"]!.AsArray().Select(v => v!.AsObject()).ToDictionary(v => (string)v["name"]!);

        Assert.Equal("datasource", (string?)variables["datasource"]["type"]);
        Assert.Equal("prometheus", (string?)variables["datasource"]["query"]);
        foreach (var label in new[] { "namespace", "model" })
        {
            var variable = variables[label];
            Assert.Equal("query", (string?)variable["type"]);
            Assert.Equal(DatasourceUid, (string?)variable["datasource"]!["uid"]);
            Assert.Matches($@"^label_values\(dsop_[a-z_]+(\{{namespace=""\$namespace""\}})?, {label}\)$", (string?)variable["definition"]);
            Assert.Equal((string?)variable["definition"], (string?)variable["query"]!["query"]);
        }
    }

    [Theory]
    [MemberData(nameof(MonitoringFiles.DashboardNames), MemberType = typeof(MonitoringFiles))]
    public void EveryPanelAndTarget_QueriesTheDatasourceVariable(string name)
    {
        var panels = MonitoringFiles.Panels(MonitoringFiles.Dashboard(name)).ToList();

        Assert.NotEmpty(panels);
        Assert.All(panels, panel =>
        {
            var title = (string?)panel["title"];
            Assert.Equal(("prometheus", DatasourceUid), ((string?)panel["datasource"]?["type"], (string?)panel["datasource"]?["uid"]));
            var targets = panel["targets"]?.AsArray() ?? [];
            Assert.True(targets.Count > 0, $"{name}: panel \"{title}\" has no query");
            Assert.All(targets, target =>
            {
                Assert.Equal(("prometheus", DatasourceUid), ((string?)target!["datasource"]?["type"], (string?)target["datasource"]?["uid"]));
                Assert.False(string.IsNullOrWhiteSpace((string?)target["expr"]), $"{name}: panel \"{title}\" has an empty query");
            });
        });
    }

    [Theory]
    [MemberData(nameof(MonitoringFiles.DashboardNames), MemberType = typeof(MonitoringFiles))]
    public void EveryModelQuery_SelectsTheNamespaceAndModelVariablesAndRatesOverTheRateInterval(string name)
    {
        Assert.All(MonitoringFiles.Queries(name).Concat(MonitoringFiles.AnnotationQueries(name)), query =>
        {
            // The operator's own series (reconciles, queue, leader) belong to no model.
            if (!query.Expr.Contains("dsop_reconcile", StringComparison.Ordinal) && !query.Expr.Contains("dsop_workqueue", StringComparison.Ordinal) && !query.Expr.Contains("dsop_leader", StringComparison.Ordinal))
            {
                Assert.Contains("namespace=\"$namespace\", model=\"$model\"", query.Expr, StringComparison.Ordinal);
            }

            if (query.Expr.Contains("rate(", StringComparison.Ordinal))
            {
                Assert.Contains("[$__rate_interval]", query.Expr, StringComparison.Ordinal);
            }
        });
    }

    [Fact]
    public void ExpertsDashboard_AnnotatesRebalancesFromPlacementRevisionChanges()
    {
        var annotation = Assert.Single(MonitoringFiles.AnnotationQueries("experts.json"));

        Assert.Contains("changes(", annotation.Expr, StringComparison.Ordinal);
        Assert.Contains("dsop_router_placement_revision", annotation.Expr, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpertsDashboard_ShowsTokensPerExpertAsAHeatmap()
    {
        var panel = MonitoringFiles.Panels(MonitoringFiles.Dashboard("experts.json")).Single(p => (string?)p["title"] == "Tokens per expert");

        Assert.Equal("heatmap", (string?)panel["type"]);
        Assert.Contains("sum by (expert)", (string)panel["targets"]![0]!["expr"]!, StringComparison.Ordinal);
    }
}
