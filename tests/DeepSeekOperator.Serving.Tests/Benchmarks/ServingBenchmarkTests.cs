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
        foreach (var transport in new[] { "HTTP/1.1 echo", "HTTP/2 echo", "gRPC Forward echo" })
        {
            Assert.Single(rows, r => r.Name.StartsWith(transport, StringComparison.Ordinal) && r.Unit == "MB/s" && r.Ratio > 0);
        }

        var inProcess = rows.Where(r => r.Name.StartsWith("MoE layer step in-process, ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, inProcess.Count);
        foreach (var batch in inProcess.Select(r => r.Name.Split(", ")[^1]))
        {
            Assert.Single(rows, r => r.Name.StartsWith($"MoE layer step, 4 shards over gRPC, float32 wire, {batch} ", StringComparison.Ordinal) && r.Ratio > 0);
            Assert.Single(rows, r => r.Name == $"wire payload per token, float32, {batch}");
        }

        var largest = inProcess[^1].Name.Split(", ")[^1];
        Assert.Single(rows, r => r.Name.StartsWith($"MoE layer step, 4 shards over gRPC, float32 wire, {largest} ", StringComparison.Ordinal) && r.Target is not null);
        Assert.Single(rows, r => r.Name.StartsWith($"MoE layer step, 4 shards over gRPC, bfloat16 wire, {largest} ", StringComparison.Ordinal) && r.Ratio > 0);
        Assert.Single(rows, r => r.Name.StartsWith("payload-bound wire throughput", StringComparison.Ordinal) && r.Ratio > 0 && r.Target is not null);
        var differences = rows.Where(r => r.Name.StartsWith("max abs difference", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, differences.Count);
        Assert.All(differences, r => Assert.InRange(r.Value, 0, 1e-2));
        Assert.All(rows.Except(differences), r => Assert.True(r.Value > 0, $"{r.Name}: {r.Value}"));
        var float32 = Assert.Single(rows, r => r.Name == $"wire payload per token, float32, {largest}").Value;
        var bfloat16 = Assert.Single(rows, r => r.Name == $"wire payload per token, bfloat16, {largest}").Value;
        Assert.True(bfloat16 < float32, $"a bfloat16 wire carries fewer bytes per token ({bfloat16}) than a float32 one ({float32})");
        Assert.Equal(rows.Count + 2, ServingBenchmark.ToMarkdown(rows).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
