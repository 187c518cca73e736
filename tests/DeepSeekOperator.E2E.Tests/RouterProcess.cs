using System.Globalization;
using System.Net;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>A <c>dsop router</c> process on loopback in front of <see cref="ShardProcesses"/>.</summary>
internal sealed class RouterProcess : IAsyncDisposable
{
    private RouterProcess(DsopProcess process, int port)
    {
        Process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public DsopProcess Process { get; }

    /// <summary>The router's root; the OpenAI API is under <c>v1/</c>.</summary>
    public Uri BaseAddress { get; }

    public HttpClient Http { get; }

    /// <summary>Starts a router of the tiny synthetic model over <paramref name="shards"/> and waits until it is ready.</summary>
    public static async Task<RouterProcess> StartAsync(ShardProcesses shards, params string[] extraArguments)
    {
        var (process, line) = await DsopProcess.StartAsync(
            [
                "router",
                "--synthetic", "tiny",
                "--seed", ShardProcesses.Seed.ToString(CultureInfo.InvariantCulture),
                "--placement", shards.PlacementPath,
                .. shards.ShardArguments,
                "--bind", "127.0.0.1",
                "--port", "0",
                .. extraArguments,
            ],
            "OpenAI API on");
        var router = new RouterProcess(process, DsopProcess.Ports(line)[0]);
        try
        {
            await router.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
            return router;
        }
        catch
        {
            await router.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <c>/readyz</c> answers 200: every shard has a reachable replica.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var last = "";
        while (!deadline.IsCancellationRequested)
        {
            using var response = await Http.GetAsync(new Uri("readyz", UriKind.Relative), CancellationToken.None);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            last = await response.Content.ReadAsStringAsync(CancellationToken.None);
            await Task.Delay(50, CancellationToken.None);
        }

        throw new TimeoutException($"the router was not ready within {timeout.TotalSeconds} s: {last}\n{Process.Output}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}
