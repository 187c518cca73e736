using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Deploy.Tests;

/// <summary><c>helm lint --strict</c> of the chart, with its defaults and with the private-cloud values.</summary>
public sealed class ChartLintTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("charts/deepseek-operator/ci/private-cloud-values.yaml")]
    public async Task HelmLintStrict_Passes(string? valuesFile)
    {
        string[] values = valuesFile is null ? [] : ["-f", Repository.PathOf(valuesFile)];

        var lint = await Tools.HelmAsync(["lint", "--strict", Tools.Chart, .. values]);

        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.Contains("1 chart(s) linted, 0 chart(s) failed", lint.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[WARNING]", lint.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("[ERROR]", lint.Output, StringComparison.Ordinal);
    }
}
