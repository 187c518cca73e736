using System.Globalization;

namespace DeepSeekOperator.Cli.Tests;

public class BenchPlacementTests
{
    [Fact]
    public async Task BenchPlacementQuick_PrintsPlannerTimesUnderTargetAndImbalanceBeforeAndAfter()
    {
        var (exitCode, output, _) = await DsopRunner.RunAsync("bench", "placement", "--quick");

        Assert.Equal(0, exitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("| measurement | value | unit | target | met |", lines[0]);
        var rows = lines.Skip(2).Select(line => line.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray()).ToList();
        Assert.Equal(
            [
                ("plan, flat (58 layers × 256 experts, 32 shards × 9)", "ms", "< 1000", "yes"),
                ("plan, 4 nodes × 8 shards", "ms", "< 1000", "yes"),
                ("imbalance, contiguous", "max/mean", "", ""),
                ("imbalance, planned flat", "max/mean", "", ""),
                ("imbalance, planned on 4 nodes", "max/mean", "", ""),
            ],
            rows.Select(row => (row[0], row[2], row[3], row[4])));
        var value = rows.Select(row => double.Parse(row[1], CultureInfo.InvariantCulture)).ToList();
        Assert.All(value.Take(2), time => Assert.True(time > 0));
        Assert.True(value[2] > 2, $"contiguous {value[2]}");
        Assert.InRange(value[3], 1.0, 1.2);
        Assert.InRange(value[4], 1.0, value[2]);
    }
}
