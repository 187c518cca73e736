using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// Replicas of expert shards die and come back, and the placement changes, while clients stream completions
/// from a <c>dsop router</c> process: what survives, what fails fast, and what resumes.
/// </summary>
public sealed class ServingFaultTests
{
    private static readonly Serving.Placement.ExpertPlacement Contiguous =
        PlacementGenerator.Contiguous(ShardProcesses.Config, "synthetic-tiny", 1, shards: 4, slotsPerShard: 4);

    [Fact]
    public async Task OneReplicaKilledMidStream_TheRequestCompletesOnTheOther()
    {
        await using var shards = await ShardProcesses.StartAsync(Contiguous, replicas: 2);
        await using var router = await RouterProcess.StartAsync(shards);
        var victim = shards.Replicas.First(r => r.Shard == 1);

        var result = await Sse.StreamAsync(router.Http, "v1/chat/completions", Sse.Chat("Tell a long story", maxTokens: 200), async chunk =>
        {
            if (chunk == 5)
            {
                await victim.Process.KillAsync();
            }
        });

        Assert.False(victim.Process.IsRunning);
        Assert.True(result.Succeeded, $"{result}\n{router.Process.Output}");
        Assert.True(result.Chunks > 5, $"the stream ended after {result.Chunks} chunks, before the replica was killed");
    }

    [Fact]
    public async Task EveryReplicaOfAShardKilled_FailsFastWith503NamingIt_AndResumesWhenOneReturns()
    {
        await using var shards = await ShardProcesses.StartAsync(Contiguous, replicas: 2);
        await using var router = await RouterProcess.StartAsync(shards);
        var shard2 = shards.Replicas.Where(r => r.Shard == 2).ToList();
        foreach (var replica in shard2)
        {
            await replica.Process.KillAsync();
        }

        var timer = Stopwatch.StartNew();
        using var failed = await router.Http.PostAsJsonAsync(new Uri("v1/chat/completions", UriKind.Relative), Sse.Chat("Anyone there?", maxTokens: 8));
        var error = await failed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Contains("shard 2", (string?)JsonNode.Parse(error)!["error"]!["message"], StringComparison.Ordinal);
        Assert.True(timer.Elapsed < TimeSpan.FromSeconds(10), $"the request took {timer.Elapsed.TotalSeconds:0.0} s to fail");

        var streamed = await Sse.StreamAsync(router.Http, "v1/chat/completions", Sse.Chat("Anyone there?", maxTokens: 8));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, streamed.Status);

        using (var ready = await router.Http.GetAsync(new Uri("readyz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        await shards.StartReplicaAsync(2, shard2[0].GrpcPort);
        await router.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        var resumed = await Sse.StreamAsync(router.Http, "v1/chat/completions", Sse.Chat("Anyone there?", maxTokens: 8));
        Assert.True(resumed.Succeeded, $"{resumed}\n{router.Process.Output}");
    }

    [Fact]
    public async Task PlacementRevisionChangedUnderLoad_LosesNoRequest()
    {
        await using var shards = await ShardProcesses.StartAsync(Contiguous);
        await using var router = await RouterProcess.StartAsync(shards);
        using var stop = new CancellationTokenSource();
        var results = new List<StreamResult>();
        async Task ClientAsync(int client)
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await Sse.StreamAsync(router.Http, "v1/chat/completions", Sse.Chat($"client {client}", maxTokens: 16));
                lock (results)
                {
                    results.Add(result);
                }
            }
        }

        var clients = Enumerable.Range(0, 8).Select(c => Task.Run(() => ClientAsync(c))).ToArray();
        await WaitForAsync(() => results.Count >= 8, "the first requests");

        // A new revision with copies, written as a ConfigMap update lands: a new file renamed over the old one.
        var next = PlacementGenerator.RoundRobin(ShardProcesses.Config, "synthetic-tiny", 2, shards: 4, slotsPerShard: 6);
        var temporary = shards.PlacementPath + ".new";
        await File.WriteAllTextAsync(temporary, next.Serialize());
        File.Move(temporary, shards.PlacementPath, overwrite: true);
        await WaitForAsync(async () => (int?)(await ExpertLoadAsync(router))["placementRevision"] == 2, "the router's switch to revision 2");
        var switchedAt = results.Count;
        await WaitForAsync(() => results.Count >= switchedAt + 8, "requests on revision 2");

        await stop.CancelAsync();
        await Task.WhenAll(clients);
        var failures = results.Where(r => !r.Succeeded).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {results.Count} requests failed, e.g. {failures.FirstOrDefault()}\n{router.Process.Output}\n{shards.Output}");
    }

    private static async Task<JsonNode> ExpertLoadAsync(RouterProcess router) =>
        JsonNode.Parse(await router.Http.GetStringAsync(new Uri("v1/expert-load", UriKind.Relative)))!;

    private static Task WaitForAsync(Func<bool> condition, string what) => WaitForAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"waited 60 s for {what}");
            }

            await Task.Delay(50);
        }
    }
}
