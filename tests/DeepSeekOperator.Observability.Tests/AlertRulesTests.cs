using System.Text.RegularExpressions;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.Tests;
using YamlDotNet.RepresentationModel;

namespace DeepSeekOperator.Observability.Tests;

/// <summary>The alert rules: valid for promtool, unit-tested both ways, the same in both forms, each with its runbook.</summary>
public sealed partial class AlertRulesTests
{
    private const string RunbookBase = "https://github.com/deepseek-operator/deepseek-operator/blob/main/docs/runbooks.md#";

    /// <summary>The alerts the operator ships: shards, routers, experts, the autoscaler and the operator itself, one name each.</summary>
    private static readonly string[] Expected =
    [
        "DeepSeekModelShardNoReadyReplica", "DeepSeekModelShardUnreachable", "DeepSeekModelRouterErrors", "DeepSeekModelTimeToFirstTokenHigh",
        "DeepSeekModelExpertImbalanceHigh", "DeepSeekModelAutoscalerAtMaxReplicas", "DeepSeekModelAutoscalerMetricsUnavailable",
        "DeepSeekOperatorReconcileErrors", "DeepSeekOperatorNoLeader",
    ];

    [Fact]
    public async Task RulesFile_PassesPromtoolCheckRules()
    {
        var (exitCode, output) = await PromtoolAsync("check", "rules", Repository.PathOf(MonitoringFiles.RulesFile));

        Assert.True(exitCode == 0, output);
        Assert.Contains($"SUCCESS: {Expected.Length} rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuleUnitTests_PassPromtoolTestRules()
    {
        var files = TestFiles();
        Assert.NotEmpty(files);

        var (exitCode, output) = await PromtoolAsync(["test", "rules", .. files]);

        Assert.True(exitCode == 0, output);
        Assert.Equal(files.Count, CountOf(output, "SUCCESS"));
    }

    [Fact]
    public void RulesFile_HasEveryExpectedAlertAndNoOther()
    {
        Assert.Equal(Expected.Order(StringComparer.Ordinal), MonitoringFiles.Alerts().Select(a => MonitoringFiles.Scalar(a, "alert")!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EveryAlert_HasAUnitTestThatFiresItAndOneWhereItStaysSilent()
    {
        var fired = new HashSet<string>(StringComparer.Ordinal);
        var silent = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in TestFiles())
        {
            foreach (var test in ((YamlSequenceNode)Load(file)["tests"]).Cast<YamlMappingNode>())
            {
                foreach (var check in ((YamlSequenceNode)test["alert_rule_test"]).Cast<YamlMappingNode>())
                {
                    var name = MonitoringFiles.Scalar(check, "alertname")!;
                    var expected = check.Children.TryGetValue("exp_alerts", out var alerts) ? ((YamlSequenceNode)alerts).Children.Count : 0;
                    (expected > 0 ? fired : silent).Add(name);
                }
            }
        }

        Assert.All(Expected, alert =>
        {
            Assert.True(fired.Contains(alert), $"no unit test expects {alert} to fire");
            Assert.True(silent.Contains(alert), $"no unit test expects {alert} to stay silent");
        });
    }

    [Fact]
    public void EveryAlert_HasSeverityForSummaryDescriptionAndRunbook()
    {
        Assert.All(MonitoringFiles.Alerts(), alert =>
        {
            var name = MonitoringFiles.Scalar(alert, "alert");
            var labels = (YamlMappingNode)alert["labels"];
            var annotations = (YamlMappingNode)alert["annotations"];
            Assert.Contains(MonitoringFiles.Scalar(labels, "severity"), new[] { "critical", "warning" });
            Assert.Matches(@"^\d+m$", MonitoringFiles.Scalar(alert, "for"));
            Assert.False(string.IsNullOrWhiteSpace(MonitoringFiles.Scalar(annotations, "summary")), $"{name}: no summary");
            Assert.False(string.IsNullOrWhiteSpace(MonitoringFiles.Scalar(annotations, "description")), $"{name}: no description");
            Assert.Equal(RunbookBase + name!.ToLowerInvariant(), MonitoringFiles.Scalar(annotations, "runbook_url"));
        });
    }

    [Fact]
    public void EveryRunbookUrl_AnchorsASectionOfTheRunbooks()
    {
        var anchors = Heading().Matches(File.ReadAllText(Repository.PathOf(MonitoringFiles.RunbooksFile)))
            .Select(m => GitHubAnchor(m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        Assert.All(MonitoringFiles.Alerts(), alert =>
        {
            var url = MonitoringFiles.Scalar((YamlMappingNode)alert["annotations"], "runbook_url")!;
            Assert.Contains(url[(url.IndexOf('#', StringComparison.Ordinal) + 1)..], anchors);
        });
    }

    [Fact]
    public void PrometheusRule_HasExactlyThePlainFilesGroups()
    {
        var plain = Canonical(MonitoringFiles.RuleGroups(MonitoringFiles.RulesFile));
        var resource = Load(Repository.PathOf(MonitoringFiles.PrometheusRuleFile));

        Assert.Equal("monitoring.coreos.com/v1", MonitoringFiles.Scalar(resource, "apiVersion"));
        Assert.Equal("PrometheusRule", MonitoringFiles.Scalar(resource, "kind"));
        Assert.Equal(plain, Canonical(MonitoringFiles.RuleGroups(MonitoringFiles.PrometheusRuleFile, "spec")));
    }

    private static List<string> TestFiles() =>
        [.. Directory.GetFiles(Repository.PathOf(MonitoringFiles.RuleTestsDirectory), "*.yml").Order(StringComparer.Ordinal)];

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    // A YAML tree as text that ignores styles (block or flow, quoting): mappings with sorted keys, scalars as values.
    private static string Canonical(YamlNode node) => node switch
    {
        YamlScalarNode scalar => "\"" + scalar.Value + "\"",
        YamlSequenceNode sequence => "[" + string.Join(",", sequence.Select(Canonical)) + "]",
        YamlMappingNode mapping => "{" + string.Join(",", mapping.Children
            .Select(pair => (Key: ((YamlScalarNode)pair.Key).Value!, Value: Canonical(pair.Value)))
            .OrderBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => pair.Key + ":" + pair.Value)) + "}",
        _ => throw new ArgumentOutOfRangeException(nameof(node), node.NodeType, "not a YAML node this file uses"),
    };

    // GitHub's heading anchors: lower case, punctuation but hyphens dropped, spaces as hyphens.
    private static string GitHubAnchor(string heading) =>
        new string([.. heading.Trim().ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is '-' or ' ' or '_')]).Replace(' ', '-');

    private static int CountOf(string text, string word) => Regex.Count(text, Regex.Escape(word));

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments)
    {
        var result = await ToolProcess.RunAsync(PrometheusServer.Tool("promtool"), arguments);
        return (result.ExitCode, result.Output + result.Error);
    }

    [GeneratedRegex(@"^#{2,3} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
