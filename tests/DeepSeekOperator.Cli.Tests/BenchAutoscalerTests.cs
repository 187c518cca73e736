using System.Globalization;

namespace DeepSeekOperator.Cli.Tests;

public class BenchAutoscalerTests
{
    [Fact]
    public async Task BenchAutoscalerQuick_EveryTrialDecidedWithinOneIntervalPlusOneScrape_ComparedWithHpaAndKeda()
    {
        var (exitCode, output, error) = await DsopRunner.RunAsync("bench", "autoscaler", "--quick");

        Assert.True(exitCode == 0, error);
        Assert.Contains("1 → 2 replicas after", error, StringComparison.Ordinal);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| measurement | value | unit | target | met |", lines[0]);
        var rows = lines.Skip(2).Select(line => line.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray()).ToList();
        Assert.Equal(
            [
                ("trials", "trials", ""),
                ("step to decision, min", "s", "≤ 20"),
                ("step to decision, median", "s", "≤ 20"),
                ("step to decision, max", "s", "≤ 20"),
                ("expected from the periods: scrape/2 + interval/2", "s", ""),
                ("HPA 15 s sync + KEDA 30 s polling + 5 s scrape, expected (computed)", "s", ""),
                ("HPA 15 s sync + KEDA 30 s polling + 5 s scrape, worst case (computed)", "s", ""),
                ("median / HPA+KEDA expected", "ratio", ""),
                ("max / HPA+KEDA worst case", "ratio", ""),
            ],
            rows.Select(row => (row[0], row[2], row[3])));
        double Value(int row) => double.Parse(rows[row][1], CultureInfo.InvariantCulture);
        Assert.Equal(2, Value(0));
        Assert.InRange(Value(1), 0, Value(3));
        // A decision at most one interval after Prometheus scraped the step, with a second of slack for a loaded machine.
        Assert.InRange(Value(3), 0, 21);
        Assert.Equal((10, 25, 50), (Value(4), Value(5), Value(6)));
    }
}
