using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Hosting;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Cli.Tests;

public sealed class RouterCommandTests
{
    private static readonly HttpClient Http = new();

    [Theory]
    [InlineData("give the replicas of every shard with --shard k=host:port (or choose --discovery dns or endpointslices)", "--synthetic", "tiny", "--shards", "2")]
    [InlineData("--shard applies only to --discovery static, not dns", "--synthetic", "tiny", "--shards", "2", "--discovery", "dns", "--service-prefix", "tiny", "--shard", "0=127.0.0.1:9000")]
    [InlineData("--discovery dns needs --service-prefix (the DeepSeekModel's name)", "--synthetic", "tiny", "--shards", "2", "--discovery", "dns")]
    [InlineData("--discovery endpointslices needs --service-prefix (the DeepSeekModel's name)", "--synthetic", "tiny", "--shards", "2", "--discovery", "endpointslices")]
    [InlineData("--shard-port-name applies only to --discovery endpointslices, not dns", "--synthetic", "tiny", "--shards", "2", "--discovery", "dns", "--service-prefix", "tiny", "--shard-port-name", "grpc")]
    [InlineData("--shard-port-name must not be empty", "--synthetic", "tiny", "--shards", "2", "--discovery", "endpointslices", "--service-prefix", "tiny", "--shard-port-name", " ")]
    [InlineData("--max-batch-tokens must be at least 1, got 0", "--synthetic", "tiny", "--shards", "1", "--shard", "0=127.0.0.1:9000", "--max-batch-tokens", "0")]
    [InlineData("--max-concurrent-requests must be at least 1, got 0", "--synthetic", "tiny", "--shards", "1", "--shard", "0=127.0.0.1:9000", "--max-concurrent-requests", "0")]
    [InlineData("--max-queued-requests must be at least 1, got -1", "--synthetic", "tiny", "--shards", "1", "--shard", "0=127.0.0.1:9000", "--max-queued-requests", "-1")]
    [InlineData("--step-deadline must be a positive number of seconds, got 0", "--synthetic", "tiny", "--shards", "1", "--shard", "0=127.0.0.1:9000", "--step-deadline", "0")]
    [InlineData("--port must be between 0 and 65535, got 70000", "--synthetic", "tiny", "--shards", "1", "--shard", "0=127.0.0.1:9000", "--port", "70000")]
    [InlineData("--bind \"localhost\" is not an IP address", "--synthetic", "tiny", "--shards", "1", "--shard", "0=127.0.0.1:9000", "--bind", "localhost")]
    [InlineData("Argument 'f16' not recognized", "--synthetic", "tiny", "--shards", "1", "--shard", "0=127.0.0.1:9000", "--wire-dtype", "f16")]
    [InlineData("give exactly one of --placement FILE and --shards N", "--synthetic", "tiny", "--shard", "0=127.0.0.1:9000")]
    public async Task BadOptions_AreAUsageErrorNamingTheOption(string message, params string[] options)
    {
        var (exitCode, output, error) = await DsopRunner.RunAsync(["router", .. options]);

        Assert.Equal(Dsop.UsageError, exitCode);
        Assert.Empty(output);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains("Run 'dsop router --help' for usage.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKeyFileThatDoesNotExist_FailsNamingIt()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"dsop-missing-{Guid.NewGuid():N}", "key");

        var (exitCode, output, error) = await DsopRunner.RunAsync("router", "--synthetic", "tiny", "--shards", "1", "--shard", "0=127.0.0.1:9000", "--port", "0", "--bind", "127.0.0.1", "--api-key-file", missing);

        Assert.Equal(1, exitCode);
        Assert.Empty(output);
        Assert.StartsWith($"dsop: --api-key-file: the API key file {missing} does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticEndpointsOfAnotherNumberOfShards_FailsNamingThem()
    {
        var (exitCode, _, error) = await DsopRunner.RunAsync("router", "--synthetic", "tiny", "--shards", "2", "--shard", "0=127.0.0.1:9000", "--port", "0", "--bind", "127.0.0.1");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("dsop: cannot start the router: StaticShards (--shard) gives endpoints of 1 shards; the placement has 2", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServesUntilCancelled_PrintingItsUrlAndAnsweringAChatCompletion_ThenStopsCleanly()
    {
        var shards = new List<ShardHost>();
        try
        {
            for (var index = 0; index < 2; index++)
            {
                shards.Add(await ShardHost.StartAsync(
                    new ShardHostOptions
                    {
                        ShardIndex = index,
                        Model = new ServedModelOptions { Synthetic = SyntheticPreset.Tiny, Shards = 2 },
                        BindAddress = "127.0.0.1",
                        GrpcPort = 0,
                        MetricsPort = 0,
                    },
                    logging: builder => builder.ClearProviders()));
            }

            using var output = new LineWriter("router of ");
            using var error = new StringWriter();
            using var stop = new CancellationTokenSource();
            var run = Dsop.RunAsync(
                ["router", "--synthetic", "tiny", "--shards", "2", "--shard", $"0=127.0.0.1:{shards[0].GrpcEndpoint.Port}", "--shard", $"1=127.0.0.1:{shards[1].GrpcEndpoint.Port}", "--port", "0", "--bind", "127.0.0.1"],
                output,
                error,
                stop.Token);

            var line = await output.Seen.WaitAsync(TimeSpan.FromSeconds(30));
            var printed = Regex.Match(line, @"^router of synthetic-tiny \(placement revision 1, 2 expert shards\): OpenAI API on (http://127\.0\.0\.1:\d+/v1)$");
            Assert.True(printed.Success, line);
            var api = printed.Groups[1].Value;
            await WaitUntilReadyAsync(new Uri(api.Replace("/v1", "/readyz", StringComparison.Ordinal)));
            using (var response = await Http.PostAsync(
                new Uri($"{api}/chat/completions"),
                new StringContent("""{"model":"synthetic-tiny","messages":[{"role":"user","content":"Hi"}],"max_tokens":3}""", Encoding.UTF8, "application/json")))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Contains("\"object\":\"chat.completion\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            await stop.CancelAsync();

            Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Empty(error.ToString());
        }
        finally
        {
            foreach (var shard in shards)
            {
                await shard.DisposeAsync();
            }
        }
    }

    /// <summary>Waits until <paramref name="readyz"/> answers 200; fails after 10 s with the last answer.</summary>
    private static async Task WaitUntilReadyAsync(Uri readyz)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var response = await Http.GetAsync(readyz);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                Assert.Fail($"{readyz} did not answer 200 within 10 s; last: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            await Task.Delay(20);
        }
    }
}
