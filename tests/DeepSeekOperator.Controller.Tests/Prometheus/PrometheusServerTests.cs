using System.Diagnostics;
using DeepSeekOperator.Controller.Prometheus;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Prometheus;

/// <summary>The test fixture itself: a real Prometheus whose targets are rewritten and reloaded, and which leaves nothing behind.</summary>
public sealed class PrometheusServerTests
{
    [Fact]
    public async Task TargetsRewrittenAndReloaded_TheNewTargetIsScrapedAndTheOldOneDropped()
    {
        await using var first = await MetricsEndpoint.StartAsync(Metrics.NewCustomRegistry());
        await using var second = await MetricsEndpoint.StartAsync(Metrics.NewCustomRegistry());
        using var http = new HttpClient();
        await using var prometheus = await PrometheusServer.StartAsync([new ScrapeJob("first", [new ScrapeTarget(first.Address)])]);
        await prometheus.WaitUntilScrapedAsync([first.Address], TimeSpan.FromSeconds(20));

        await prometheus.SetJobsAsync([new ScrapeJob("second", [new ScrapeTarget(second.Address, new Dictionary<string, string> { ["component"] = "shard" })])]);
        await prometheus.WaitUntilScrapedAsync([second.Address], TimeSpan.FromSeconds(20));

        var client = new PrometheusClient(http, new PrometheusClientOptions { Server = prometheus.BaseAddress });
        var up = await client.QueryVectorAsync("up{job=\"second\"}");
        var sample = Assert.Single(up.Samples);
        Assert.Equal((second.Address, "shard", 1.0), (sample.Labels["instance"], sample.Labels["component"], sample.Value));
    }

    [Fact]
    public async Task Disposed_TheProcessIsGoneAndItsDirectoryRemoved()
    {
        var prometheus = await PrometheusServer.StartAsync([]);
        using var process = Process.GetProcessById(prometheus.ProcessId);
        Assert.True(Directory.Exists(Path.Combine(prometheus.DirectoryPath, "data")));

        await prometheus.DisposeAsync();

        Assert.True(process.HasExited);
        Assert.False(Directory.Exists(prometheus.DirectoryPath));
    }
}
