using DeepSeekOperator.Serving.Benchmarks;

namespace DeepSeekOperator.Serving.Tests.Benchmarks;

public class ServingBenchmarkTests
{
    [Fact]
    public async Task QuickRun_ReportsEveryMeasurementWithPositiveFiguresAndAgreeingOutputs()
    {
        var reported = new List<ServingBenchmarkRow>();

        var rows = await ServingBenchmark.RunAsync(reported.Add, quick: true);

        Assert.Equal(rows, reported);
        Assert.Single(rows, r => r.Name.StartsWith("raw loopback TCP", StringComparison.Ordinal) && r.Unit == "MB/s");
        foreach (var tokens in new[] { "1 token", "64 tokens", "512 tokens" })
        {
            Assert.Single(rows, r => r.Name.StartsWith("MoE layer step in-process, " + tokens, StringComparison.Ordinal));
            Assert.Single(rows, r => r.Name.Contains("4 shards over gRPC, float32 wire, " + tokens, StringComparison.Ordinal) && r.Ratio > 0);
            Assert.Single(rows, r => r.Name.StartsWith("wire payload per token, float32, " + tokens, StringComparison.Ordinal));
        }

        Assert.Single(rows, r => r.Name.Contains("bfloat16 wire, 512 tokens", StringComparison.Ordinal) && r.Ratio > 0);
        Assert.Single(rows, r => r.Name.StartsWith("payload-bound wire throughput", StringComparison.Ordinal) && r.Ratio > 0 && r.Target is not null);
        var differences = rows.Where(r => r.Name.StartsWith("max abs difference", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, differences.Count);
        Assert.All(differences, r => Assert.InRange(r.Value, 0, 1e-2));
        Assert.All(rows.Except(differences), r => Assert.True(r.Value > 0, $"{r.Name}: {r.Value}"));
        var bytes = rows.Where(r => r.Name.StartsWith("wire payload per token, ", StringComparison.Ordinal) && r.Name.EndsWith("512 tokens", StringComparison.Ordinal)).Select(r => r.Value).ToList();
        Assert.True(bytes[1] < bytes[0], "a bfloat16 wire carries fewer bytes per token than a float32 one");
        Assert.Equal(rows.Count + 2, ServingBenchmark.ToMarkdown(rows).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
