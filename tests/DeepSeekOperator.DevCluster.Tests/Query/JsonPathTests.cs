using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;

namespace DeepSeekOperator.DevCluster.Tests.Query;

public sealed class JsonPathTests
{
    private static readonly JsonNode Data = JsonNode.Parse("""
        {"kind": "List",
         "items": [
           {"metadata": {"name": "a", "labels": {"app.kubernetes.io/name": "x"}},
            "status": {"replicas": 3, "ratio": 1.5, "ready": true,
                       "conditions": [{"type": "Ready", "status": "True"}, {"type": "Scheduled", "status": "False"}]}},
           {"metadata": {"name": "b"}, "status": {"replicas": 1, "ratio": 0.5, "ready": false}}]}
        """)!;

    [Theory]
    [InlineData("{.items[0].metadata.name}", "a")]
    [InlineData(".items[*].metadata.name", "a b")]
    [InlineData("{.items[-1].metadata.name}", "b")]
    [InlineData("{.items[0:2].metadata.name}", "a b")]
    [InlineData("{.items[1:].metadata.name}", "b")]
    [InlineData("{.items[0:2:2].metadata.name}", "a")]
    [InlineData("{.items[0,1].status.replicas}", "3 1")]
    [InlineData("{..name}", "a b")]
    [InlineData("{$.kind}", "List")]
    [InlineData("{.items[0]['metadata']['name']}", "a")]
    [InlineData(@"{.items[0].metadata.labels.app\.kubernetes\.io/name}", "x")]
    [InlineData("{.items[?(@.status.replicas>2)].metadata.name}", "a")]
    [InlineData("{.items[?(@.status.replicas<=1)].metadata.name}", "b")]
    [InlineData("{.items[?(@.status.ratio>=1.0)].metadata.name}", "a")]
    [InlineData("{.items[?(@.status.ready==true)].metadata.name}", "a")]
    [InlineData("{.items[?(@.metadata.name!='a')].metadata.name}", "b")]
    [InlineData("{.items[0].status.conditions[?(@.type==\"Ready\")].status}", "True")]
    [InlineData("{.items[?(@.metadata.labels)].metadata.name}", "a")]
    [InlineData("{.items[1].status}", """{"ratio":0.5,"ready":false,"replicas":1}""")]
    [InlineData("{.items[0].status.ratio}", "1.5")]
    [InlineData("kind: {.kind}, first: {.items[0].metadata.name}", "kind: List, first: a")]
    [InlineData("{range .items[*]}{.metadata.name}{\"\\n\"}{end}", "a\nb\n")]
    [InlineData("{range .items[*]}[{.metadata.name},{.status.replicas}] {end}", "[a,3] [b,1] ")]
    public void TryExecute_PrintsWhatKubectlPrints(string template, string expected)
    {
        Assert.True(JsonPath.TryParse(template, out var path, out var parseError), parseError?.ToString());
        Assert.True(path.TryExecute(Data, allowMissingKeys: false, out var output, out var error), error);

        Assert.Equal(expected, output);
    }

    [Theory]
    [InlineData("{.items[5]}", "array index out of bounds: index 5, length 2")]
    [InlineData("{.items[0].status.conditions[1:0]}", "starting index 1 is greater than ending index 0")]
    [InlineData("{.items[::0]}", "step must be > 0")]
    [InlineData("{.missing}", "missing is not found")]
    [InlineData("{.kind[0]}", "string is not array or slice")]
    [InlineData("{.items[0].metadata[0]}", "map[string]interface {} is not array or slice")]
    [InlineData("{.kind[?(@.x)]}", "List is not array or slice and cannot be filtered")]
    [InlineData("{.items[?(@.status.replicas>\"x\")]}", "incompatible types for comparison")]
    [InlineData("{.items[?(@.status.replicas>1.0)]}", "incompatible types for comparison")]
    [InlineData("{.items[?(@.status.ready<true)]}", "invalid type for comparison")]
    [InlineData("{end}", "not in range, nothing to end")]
    [InlineData("{foo}", "unrecognized identifier foo")]
    [InlineData("{.items[0].metadata.labels['app.kubernetes.io/name']}", "app is not found")]
    public void TryFindResults_EvaluationFailure_GivesClientGoMessage(string template, string message)
    {
        Assert.True(JsonPath.TryParse(template, out var path, out var parseError), parseError?.ToString());

        Assert.False(path.TryFindResults(Data, allowMissingKeys: false, out _, out var error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void TryFindResults_MissingKeysAllowed_SelectsNothing()
    {
        Assert.True(JsonPath.TryParse("{.items[*].spec.replicas}", out var path, out _));

        Assert.True(path.TryFindResults(Data, allowMissingKeys: true, out var results, out _));
        Assert.Empty(Assert.Single(results));
    }

    [Theory]
    [InlineData("{.a", "unclosed action", 3)]
    [InlineData("{.a[}", "unterminated array", 5)]
    [InlineData("{.a[x]}", "invalid array index x", 6)]
    [InlineData("{.a[?(@.b}", "unterminated filter", 10)]
    [InlineData("{.a %}", "unrecognized character in action: U+0025 '%'", 5)]
    [InlineData("{....a}", "invalid multiple recursive descent", 3)]
    [InlineData("{.a[1.5]}", "invalid array index 1.5", 8)]
    [InlineData("{\"abc}", "unterminated quoted string", 6)]
    public void TryParse_SyntaxError_GivesMessageAndPosition(string template, string message, int position)
    {
        Assert.False(JsonPath.TryParse(template, out _, out var error));

        Assert.Equal(message, error.Message);
        Assert.Equal(position, error.Position);
    }

    [Fact]
    public void TryParse_TextWithoutBraces_IsOneExpression()
    {
        Assert.True(JsonPath.TryParse(".status.phase", out var path, out _));

        Assert.Equal("{.status.phase}", path.Template);
    }

    [Fact]
    public void Evaluate_ReturnsTheSelectedNodes()
    {
        Assert.True(JsonPath.TryParse("{.items[*].status.replicas}", out var path, out _));

        var values = path.Evaluate(Data);

        Assert.Equal([3, 1], values.Select(value => value!.GetValue<int>()));
        Assert.Same(Data["items"]![0]!["status"]!["replicas"], values[0]);
    }

    [Fact]
    public void Evaluate_FailingExpression_Throws()
    {
        Assert.True(JsonPath.TryParse("{.items[9]}", out var path, out _));

        var failure = Assert.Throws<InvalidOperationException>(() => path.Evaluate(Data));
        Assert.Equal("array index out of bounds: index 9, length 2", failure.Message);
    }

    [Theory]
    [InlineData("1000000.0", "1e+06")]
    [InlineData("123456.0", "123456")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("12345678901", "12345678901")]
    [InlineData("\"<a&b>\"", "<a&b>")]
    [InlineData("null", "null")]
    public void PrintResults_ScalarsPrintAsGoPrintsThem(string json, string expected)
    {
        Assert.Equal(expected, JsonPath.PrintResults([JsonNode.Parse(json)]));
    }

    [Fact]
    public void PrintResults_ObjectsAreCompactJsonWithSortedKeysAndHtmlEscapes()
    {
        var value = JsonNode.Parse("""{"b": [1, 2.5, 1e21], "a": "<x>"}""");

        Assert.Equal("""{"a":"\u003cx\u003e","b":[1,2.5,1e+21]}""", JsonPath.PrintResults([value]));
    }
}
