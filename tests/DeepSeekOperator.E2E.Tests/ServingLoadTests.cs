using System.Diagnostics;
using System.Globalization;
using DeepSeekOperator.Serving.Placement;
using Xunit.Abstractions;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>64 clients stream chat completions for a minute from a router in front of four shard processes.</summary>
public sealed class ServingLoadTests(ITestOutputHelper output)
{
    private const int Clients = 64;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SixtyFourStreamingClientsForAMinute_AllSucceed()
    {
        await using var shards = await ShardProcesses.StartAsync(PlacementGenerator.Contiguous(ShardProcesses.Config, "synthetic-tiny", 1, shards: 4, slotsPerShard: 4));
        await using var router = await RouterProcess.StartAsync(shards);
        var results = new List<StreamResult>();
        var timer = Stopwatch.StartNew();
        async Task ClientAsync(int client)
        {
            for (var request = 0; timer.Elapsed < Duration; request++)
            {
                var result = await Sse.StreamAsync(router.Http, "v1/chat/completions", Sse.Chat($"client {client} request {request}", maxTokens: 32));
                lock (results)
                {
                    results.Add(result);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(() => ClientAsync(c))));
        var seconds = timer.Elapsed.TotalSeconds;

        var failures = results.Where(r => !r.Succeeded).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {results.Count} requests failed, e.g. {failures.FirstOrDefault()}\n{router.Process.Output}");
        var firstTokens = results.Where(r => r.FirstToken is not null).Select(r => r.FirstToken!.Value.TotalMilliseconds).Order().ToArray();
        var generated = GeneratedTokens(await router.Http.GetStringAsync(new Uri("metrics", UriKind.Relative)));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Clients} streaming clients, {seconds:0} s: {results.Count} requests, 0 errors; time to first token p50 {Percentile(firstTokens, 0.50):0} ms, p99 {Percentile(firstTokens, 0.99):0} ms; {generated / seconds:0} generated tokens/s ({results.Count / seconds:0.0} requests/s)"));
        Assert.True(results.Count >= Clients, $"only {results.Count} requests finished in {seconds:0} s");
    }

    /// <summary>The router's <c>dsop_router_tokens_total{kind="generated"}</c>.</summary>
    private static double GeneratedTokens(string metrics)
    {
        var line = metrics.Split('\n').Single(l => l.StartsWith("dsop_router_tokens_total{kind=\"generated\"}", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    private static double Percentile(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
