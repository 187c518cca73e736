using System.Globalization;

namespace DeepSeekOperator.Cli.Tests;

public class BenchApiTests
{
    [Fact]
    public async Task BenchApiQuick_PrintsEveryMeasurementOfBothStoragesWithItsTarget()
    {
        var (exitCode, output, error) = await DsopRunner.RunAsync("bench", "api", "--quick");

        Assert.Equal(0, exitCode);
        Assert.Contains("client over HTTP/2.0", error, StringComparison.Ordinal);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| storage | measurement | value | unit | target | of target | met |", lines[0]);
        var rows = lines.Skip(2).Select(line => line.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray()).ToList();
        Assert.Equal(
            [
                ("memory", "ConfigMap creates, 8 concurrent tasks", "creates/s", "≥ 2000"),
                ("memory", "list 200 ConfigMaps, p50", "ms", ""),
                ("memory", "list 200 ConfigMaps, p99", "ms", ""),
                ("memory", "list limit=50 of 200, p50", "ms", ""),
                ("memory", "list limit=50 of 200, p99", "ms", ""),
                ("memory", "update → watch event, 10 watchers, p50", "ms", ""),
                ("memory", "update → watch event, 10 watchers, p99", "ms", "≤ 20"),
                ("state dir", "ConfigMap creates, 8 concurrent tasks", "creates/s", "≥ 2000"),
                ("state dir", "update → watch event, 10 watchers, p50", "ms", ""),
                ("state dir", "update → watch event, 10 watchers, p99", "ms", "≤ 20"),
            ],
            rows.Select(row => (row[0], row[1], row[3], row[4])));
        foreach (var row in rows)
        {
            var value = double.Parse(row[2], CultureInfo.InvariantCulture);
            Assert.True(value > 0, $"{row[1]}: {value}");
            if (row[4].Length == 0)
            {
                Assert.Equal(["", ""], row[5..]);
                continue;
            }

            var target = double.Parse(row[4][2..], CultureInfo.InvariantCulture);
            Assert.Equal(value / target, double.Parse(row[5], CultureInfo.InvariantCulture), 0.01);
            Assert.Contains(row[6], new[] { "yes", "no" });
            if (Math.Abs(value - target) > 0.1)
            {
                // Beyond the rounding of the printed value, the verdict follows from it.
                var met = row[4][0] == '≥' ? value > target : value < target;
                Assert.Equal(met ? "yes" : "no", row[6]);
            }
        }
    }
}
