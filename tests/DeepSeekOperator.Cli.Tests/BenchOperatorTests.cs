using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.Cli.Tests;

public class BenchOperatorTests
{
    [Fact]
    public async Task BenchOperatorWithFiveModels_PrintsEveryRowAndEveryModelBecameReady()
    {
        var (exitCode, output, error) = await DsopRunner.RunAsync("bench", "operator", "--models", "5");

        Assert.True(exitCode == 0, error);
        Assert.Contains("every model Ready after", error, StringComparison.Ordinal);
        Assert.Contains("5 of 5 Ready after", error, StringComparison.Ordinal);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| measurement | value | unit | target | of target | met |", lines[0]);
        var rows = lines.Skip(2).Select(line => line.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray()).ToList();
        Assert.Equal(
            [
                ("DeepSeekModels created (tiny synthetic sample, 5 simulated pods each)", "models", ""),
                ("creates, 4 concurrent tasks", "creates/s", ""),
                ("first create → every model Ready", "s", "≤ 60"),
                ("reconciles (dsop_reconcile_total, every result)", "reconciles", ""),
                ("reconciles per second", "reconciles/s", ""),
                ("reconcile errors (dsop_reconcile_errors_total)", "errors", ""),
                ("operator peak RSS (VmHWM)", "MB", "≤ 200"),
                ("operator RSS when every model is Ready (VmRSS)", "MB", ""),
                ("operator CPU time", "s", ""),
                ("bench process CPU time (API server, dev-cluster controllers, simulated pods, watch)", "s", ""),
                ("API server writes, every client", "writes/s", ""),
            ],
            rows.Select(row => (row[0], row[2], row[3])));
        double Value(int row) => double.Parse(rows[row][1], CultureInfo.InvariantCulture);
        Assert.Equal(5, Value(0));
        // Each model is reconciled at least twice: its children created, then its status once the pods are Ready.
        Assert.True(Value(3) >= 10, $"reconciles: {Value(3)}");
        Assert.True(Value(6) >= Value(7) && Value(7) > 10, $"peak RSS {Value(6)} MB, RSS {Value(7)} MB");
        Assert.Contains(rows[2][5], new[] { "yes", "no" });
        // The operator process was stopped before the command returned.
        var pid = int.Parse(Regex.Match(error, @"operator \(pid (\d+)\) leads").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
    }

    [Theory]
    [InlineData("--models must be at least 1, got 0", "--models", "0")]
    [InlineData("--quick creates 20 models: give --models or --quick, not both", "--models", "5", "--quick")]
    public async Task BadOptions_AreAUsageErrorNamingTheOption(string message, params string[] options)
    {
        var (exitCode, output, error) = await DsopRunner.RunAsync(["bench", "operator", .. options]);

        Assert.Equal(Dsop.UsageError, exitCode);
        Assert.Empty(output);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}
