using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;

namespace DeepSeekOperator.DevCluster.Tests.Query;

public sealed class LabelSelectorTests
{
    private const string NameRegexMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

    [Theory]
    [InlineData("a=b", "a=b")]
    [InlineData("a==b", "a==b")]
    [InlineData("a!=b", "a!=b")]
    [InlineData(" a = b ", "a=b")]
    [InlineData("a", "a")]
    [InlineData("!a", "!a")]
    [InlineData("a>1", "a>1")]
    [InlineData("a<3", "a<3")]
    [InlineData("a=", "a=")]
    [InlineData("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()")]
    [InlineData("b in (in, notin),a notin (x)", "a notin (x),b in (in,notin)")]
    [InlineData("example.com/tier=web", "example.com/tier=web")]
    [InlineData("", "")]
    public void TryParse_ValidSelector_ReadsBackInCanonicalForm(string text, string canonical)
    {
        Assert.True(LabelSelector.TryParse(text, out var selector, out var error), error);
        Assert.Equal(canonical, selector.ToString());
    }

    [Theory]
    [InlineData("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("a=b,", "found '', expected: identifier after ','")]
    [InlineData("a=b c", "found 'c', expected: ',' or 'end of string'")]
    [InlineData(",a", "found ',', expected: !, identifier, or 'end of string'")]
    [InlineData("!a=b", "found '=', expected: ',' or 'end of string'")]
    [InlineData("a in b", "unable to parse requirement: found 'b' expected: '('")]
    [InlineData("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'")]
    [InlineData("a in (b", "unable to parse requirement: found '', expected: ',' or ')'")]
    [InlineData("a=(", "unable to parse requirement: found '(', expected: identifier")]
    [InlineData("a>b", "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer")]
    [InlineData("app=a_", "unable to parse requirement: values[0][app]: Invalid value: \"a_\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")]
    [InlineData("-a=b", "unable to parse requirement: <nil>: Invalid value: \"-a\": name part " + NameRegexMessage)]
    [InlineData("a/b/c=d", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name " + NameRegexMessage + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]
    [InlineData("/a", "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty")]
    public void TryParse_InvalidSelector_GivesTheKubernetesMessage(string text, string message)
    {
        Assert.False(LabelSelector.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void TryParse_GreaterThanWithABadLabelValue_AggregatesBothErrors()
    {
        Assert.False(LabelSelector.TryParse("a>-", out _, out var error));
        Assert.StartsWith("unable to parse requirement: [values[0]: Invalid value: \"-\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][a]: Invalid value: \"-\": a valid label", error);
        Assert.EndsWith("]", error);
    }

    [Theory]
    [InlineData("app=web", true)]
    [InlineData("app==web,tier", true)]
    [InlineData("app!=web", false)]
    [InlineData("missing!=x", true)]
    [InlineData("missing notin (x)", true)]
    [InlineData("missing in (x)", false)]
    [InlineData("!missing", true)]
    [InlineData("!tier", false)]
    [InlineData("version in (1,2)", true)]
    [InlineData("version notin (1,2)", false)]
    [InlineData("replicas>2", true)]
    [InlineData("replicas>3", false)]
    [InlineData("replicas<4", true)]
    [InlineData("tier>1", false)]
    [InlineData("empty=", true)]
    [InlineData("", true)]
    public void Matches_AppliesEachOperatorAsKubernetesDoes(string text, bool expected)
    {
        var labels = new JsonObject { ["app"] = "web", ["tier"] = "frontend", ["version"] = "2", ["replicas"] = "3", ["empty"] = "" };
        Assert.True(LabelSelector.TryParse(text, out var selector, out var error), error);

        Assert.Equal(expected, selector.Matches(labels));
    }

    [Fact]
    public void Matches_ObjectWithoutLabels_OnlyNegativeRequirementsHold()
    {
        Assert.True(LabelSelector.TryParse("!app,tier!=db", out var negative, out _));
        Assert.True(LabelSelector.TryParse("app", out var positive, out _));

        Assert.True(negative.Matches(null));
        Assert.False(positive.Matches(null));
    }

    [Fact]
    public void FromLabelSelector_NullSelector_MatchesNothing()
    {
        var (selector, errors) = LabelSelector.FromLabelSelector(null, "spec.selector");

        Assert.Empty(errors);
        Assert.False(selector.Matches(new JsonObject { ["app"] = "web" }));
        Assert.False(selector.IsEmpty);
    }

    [Fact]
    public void FromLabelSelector_EmptySelector_MatchesEverything()
    {
        var (selector, errors) = LabelSelector.FromLabelSelector(new JsonObject(), "spec.selector");

        Assert.Empty(errors);
        Assert.True(selector.IsEmpty);
        Assert.True(selector.Matches(null));
    }

    [Fact]
    public void FromLabelSelector_LabelsAndExpressions_AreAllRequired()
    {
        var json = JsonNode.Parse("""
            {"matchLabels": {"app": "router"},
             "matchExpressions": [
               {"key": "tier", "operator": "In", "values": ["web", "api"]},
               {"key": "canary", "operator": "DoesNotExist"},
               {"key": "shard", "operator": "Exists"},
               {"key": "zone", "operator": "NotIn", "values": ["b"]}]}
            """);

        var (selector, errors) = LabelSelector.FromLabelSelector(json, "spec.selector");

        Assert.Empty(errors);
        Assert.Equal("app=router,!canary,shard,tier in (api,web),zone notin (b)", selector.ToString());
        Assert.True(selector.Matches(new JsonObject { ["app"] = "router", ["tier"] = "api", ["shard"] = "0" }));
        Assert.False(selector.Matches(new JsonObject { ["app"] = "router", ["tier"] = "api", ["shard"] = "0", ["canary"] = "true" }));
        Assert.False(selector.Matches(new JsonObject { ["app"] = "router", ["tier"] = "api", ["shard"] = "0", ["zone"] = "b" }));
    }

    [Fact]
    public void FromLabelSelector_InvalidRequirements_ReportsFieldErrors()
    {
        var json = JsonNode.Parse("""
            {"matchLabels": {"app": "bad value"},
             "matchExpressions": [
               {"key": "tier", "operator": "In"},
               {"key": "zone", "operator": "Exists", "values": ["a"]},
               {"key": "x", "operator": "Bogus"}]}
            """);

        var (selector, errors) = LabelSelector.FromLabelSelector(json, "spec.selector");

        Assert.False(selector.Matches(new JsonObject { ["app"] = "bad value" }));
        Assert.Equal(
            [
                "spec.selector.matchLabels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
                "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
                "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                "spec.selector.matchExpressions[2].operator: Invalid value: \"Bogus\": not a valid selector operator",
            ],
            errors.Select(error => error.ToString()));
    }

    [Theory]
    [InlineData(null, "<none>")]
    [InlineData("{}", "<none>")]
    [InlineData("""{"matchLabels": {"b": "2", "a": "1"}}""", "a=1,b=2")]
    [InlineData("""{"matchExpressions": [{"key": "a", "operator": "Bad"}]}""", "<error>")]
    public void Format_PrintsTheSelectorColumn(string? json, string expected)
    {
        Assert.Equal(expected, LabelSelector.Format(json is null ? null : JsonNode.Parse(json)));
    }
}
