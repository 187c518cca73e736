namespace DeepSeekOperator.Cli.Tests;

/// <summary><c>dsop run</c> refuses bad input before it starts anything. (The whole run is in the E2E tests.)</summary>
public sealed class RunCommandTests
{
    [Theory]
    [InlineData("--ready-timeout must be at least 1 second, got 0", "--ready-timeout", "0")]
    [InlineData("--namespace \"My Models\" is not a DNS label", "--namespace", "My Models")]
    public async Task BadOptions_AreAUsageErrorNamingTheOption(string message, params string[] options)
    {
        var (exitCode, _, error) = await DsopRunner.RunAsync(["run", .. options]);

        Assert.Equal(Dsop.UsageError, exitCode);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingManifest_NamesTheFileAndHowToFixIt()
    {
        var (exitCode, _, error) = await DsopRunner.RunAsync(["run", "--file", "/nonexistent/model.yaml"]);

        Assert.Equal(1, exitCode);
        Assert.Contains("cannot read /nonexistent/model.yaml", error, StringComparison.Ordinal);
        Assert.Contains("--file", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidManifest_NamesTheFieldBeforeAnyClusterStarts()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, """
                apiVersion: moe.deepseek-operator.io/v1alpha1
                kind: DeepSeekModel
                metadata: {name: broken}
                spec:
                  model: {source: {synthetic: {preset: tiny}}}
                  experts: {shards: 0}
                """);

            var (exitCode, output, error) = await DsopRunner.RunAsync(["run", "--file", file]);

            Assert.Equal(1, exitCode);
            Assert.Contains("is not a valid DeepSeekModel", error, StringComparison.Ordinal);
            Assert.Contains("spec.experts.shards", error, StringComparison.Ordinal);
            Assert.DoesNotContain("development cluster", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
