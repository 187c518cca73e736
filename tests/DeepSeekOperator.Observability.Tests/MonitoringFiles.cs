using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeepSeekOperator.Tests;
using YamlDotNet.RepresentationModel;

namespace DeepSeekOperator.Observability.Tests;

/// <summary>The dashboards, alert rules and runbooks under test, read from the repository.</summary>
internal static partial class MonitoringFiles
{
    /// <summary>The plain rules file.</summary>
    public const string RulesFile = "config/prometheus/rules/deepseek-operator.rules.yml";

    /// <summary>The same groups as a PrometheusRule.</summary>
    public const string PrometheusRuleFile = "config/prometheus/prometheusrule.yaml";

    /// <summary>The promtool unit tests of the rules.</summary>
    public const string RuleTestsDirectory = "config/prometheus/rules/tests";

    /// <summary>The runbooks each alert links to.</summary>
    public const string RunbooksFile = "docs/runbooks.md";

    /// <summary>The dashboards, by file name.</summary>
    public static TheoryData<string> DashboardNames => new(["model-serving.json", "experts.json", "operator.json"]);

    /// <summary>Every dashboard file in the directory the Grafana kustomization and the chart take them from.</summary>
    public static IReadOnlyList<string> DashboardFiles =>
        [.. Directory.GetFiles(Repository.PathOf("config/grafana/dashboards"), "*.json").Order(StringComparer.Ordinal)];

    /// <summary>A dashboard parsed.</summary>
    public static JsonObject Dashboard(string name) =>
        JsonNode.Parse(File.ReadAllText(Repository.PathOf("config/grafana/dashboards/" + name)))!.AsObject();

    /// <summary>The panels of a dashboard, those inside collapsed rows included, rows themselves excluded.</summary>
    public static IEnumerable<JsonObject> Panels(JsonObject dashboard)
    {
        foreach (var panel in dashboard["panels"]!.AsArray().Select(p => p!.AsObject()))
        {
            if ((string?)panel["type"] == "row")
            {
                foreach (var inner in panel["panels"]?.AsArray() ?? [])
                {
                    yield return inner!.AsObject();
                }
            }
            else
            {
                yield return panel;
            }
        }
    }

    /// <summary>Every query of a dashboard: its panels' targets and its Prometheus annotations, with where it comes from.</summary>
    public static IEnumerable<(string Where, string Expr)> Queries(string name)
    {
        var dashboard = Dashboard(name);
        foreach (var panel in Panels(dashboard))
        {
            foreach (var target in panel["targets"]!.AsArray())
            {
                yield return ($"{name} panel \"{panel["title"]}\" target {target!["refId"]}", (string)target["expr"]!);
            }
        }
    }

    /// <summary>The annotation queries of a dashboard (the built-in Grafana one has none).</summary>
    public static IEnumerable<(string Where, string Expr)> AnnotationQueries(string name) =>
        Dashboard(name)["annotations"]!["list"]!.AsArray()
            .Where(a => a!["expr"] is not null)
            .Select(a => ($"{name} annotation \"{a!["name"]}\"", (string)a["expr"]!));

    /// <summary>The rules file's groups as YAML.</summary>
    public static YamlSequenceNode RuleGroups(string path, params string[] under)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Repository.PathOf(path)))
        {
            stream.Load(reader);
        }

        YamlNode node = stream.Documents[0].RootNode;
        foreach (var key in under)
        {
            node = ((YamlMappingNode)node)[key];
        }

        return (YamlSequenceNode)((YamlMappingNode)node)["groups"];
    }

    /// <summary>Every alerting rule of the plain file.</summary>
    public static IReadOnlyList<YamlMappingNode> Alerts() =>
        [.. RuleGroups(RulesFile).Cast<YamlMappingNode>()
            .SelectMany(group => ((YamlSequenceNode)group["rules"]).Cast<YamlMappingNode>())
            .Where(rule => rule.Children.ContainsKey("alert"))];

    /// <summary>A scalar of a mapping, or null when absent.</summary>
    public static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) ? ((YamlScalarNode)value).Value : null;

    /// <summary>The <c>dsop_*</c> metric names a PromQL expression names.</summary>
    public static IEnumerable<string> MetricNames(string expr) => MetricName().Matches(expr).Select(m => m.Value);

    [GeneratedRegex(@"\bdsop_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
