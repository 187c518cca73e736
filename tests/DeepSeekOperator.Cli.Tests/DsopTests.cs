using System.Diagnostics;
using DeepSeekOperator.Api;
using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Cli.Tests;

public class DsopTests
{
    private static Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => DsopRunner.RunAsync(args);

    [Fact]
    public async Task Help_ListsEveryCommand()
    {
        var (exitCode, output, _) = await RunAsync("--help");
        Assert.Equal(0, exitCode);
        Assert.Contains("version", output, StringComparison.Ordinal);
        Assert.Contains("crd", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsVersionCommitRuntimeAndApi()
    {
        var (exitCode, output, _) = await RunAsync("version");
        Assert.Equal(0, exitCode);
        Assert.Matches(@"^dsop \d+\.\d+\.\d+ \(commit ([0-9a-f]+|unknown), \.NET 10\.", output);
        Assert.Contains("API moe.deepseek-operator.io/v1alpha1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crd_PrintsTheCheckedInCrd()
    {
        var (exitCode, output, error) = await RunAsync("crd");
        Assert.Equal(0, exitCode);
        Assert.Empty(error);
        Assert.Equal(File.ReadAllText(Repository.PathOf("crds/" + CustomResourceDefinitions.DeepSeekModelFileName)), output);
    }

    [Fact]
    public async Task Crd_WithOutput_WritesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dsop-crd-{Guid.NewGuid():N}.yaml");
        try
        {
            var (exitCode, output, _) = await RunAsync("crd", "--output", path);
            Assert.Equal(0, exitCode);
            Assert.Empty(output);
            Assert.Equal(CustomResourceDefinitions.DeepSeekModelYaml(), await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Crd_WithUnwritableOutput_FailsNamingTheFile()
    {
        var (exitCode, _, error) = await RunAsync("crd", "-o", "/nonexistent-directory/crd.yaml");
        Assert.Equal(1, exitCode);
        Assert.Contains("/nonexistent-directory/crd.yaml", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("deploy")]
    [InlineData("crd", "--format", "json")]
    [InlineData("version", "extra")]
    [InlineData("--verbose")]
    public async Task BadCommandLine_ExitsWith2AndSaysWhy(params string[] args)
    {
        var (exitCode, output, error) = await RunAsync(args);
        Assert.Equal(2, exitCode);
        Assert.Empty(output);
        Assert.Contains(args[^1], error, StringComparison.Ordinal);
        Assert.Contains("--help' for usage", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoCommand_ExitsWith2AndListsCommands()
    {
        var (exitCode, _, error) = await RunAsync();
        Assert.Equal(2, exitCode);
        Assert.Contains("version, crd", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_UnknownCommand_ExitsWith2()
    {
        // The real executable, so the exit code is the process's, not only the method's.
        var dsop = Path.Combine(AppContext.BaseDirectory, "dsop");
        var start = new ProcessStartInfo(File.Exists(dsop) ? dsop : "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (!File.Exists(dsop))
        {
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dsop.dll"));
        }

        start.ArgumentList.Add("nonsense");
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("nonsense", error, StringComparison.Ordinal);
    }
}
