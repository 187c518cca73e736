using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Router;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using static TorchSharp.torch;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// A router whose experts live in four <c>dsop shard</c> processes computes what the single-process runtime
/// computes: the same logits within 1e-5 (float32), for placements without and with copies of experts.
/// </summary>
public sealed class ShardedEqualsLocalTests
{
    private static readonly ModelConfig Config = ShardProcesses.Config;

    public static TheoryData<string> Placements => ["contiguous", "round-robin with copies"];

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task FourShardProcesses_GiveTheSingleProcessLogits_ForPrefillAndDecode(string kind)
    {
        var placement = kind == "contiguous"
            ? PlacementGenerator.Contiguous(Config, "synthetic-tiny", 1, shards: 4, slotsPerShard: 4)
            : PlacementGenerator.RoundRobin(Config, "synthetic-tiny", 1, shards: 4, slotsPerShard: 6);
        await using var shards = await ShardProcesses.StartAsync(placement);
        var resolver = new StaticShardResolver(shards.Endpoints);
        await using var remote = new RemoteExpertExecutor(
            new RemoteExpertOptions { Config = Config },
            placement,
            resolver,
            new RouterMetrics(Metrics.NewCustomRegistry()),
            NullLogger<RemoteExpertExecutor>.Instance);
        using var router = RouterModel.Synthetic(Config, ShardProcesses.Seed, 0, remote, ScalarType.Float32, CPU);
        using var local = MoeModel.FromWeights(Config, SyntheticModel.Weights(Config, ShardProcesses.Seed), ScalarType.Float32, CPU);

        // Two sequences of different lengths prefilled together, then three decode steps.
        int[][] prompts = [[256, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100], [256, 84, 104, 101, 32, 113]];
        using var routerCaches = new CacheSet(router, prompts.Length);
        using var localCaches = new CacheSet(local, prompts.Length);
        var inputs = prompts.Select(p => (IReadOnlyList<int>)p).ToArray();
        var worst = 0.0;
        for (var step = 0; step < 4; step++)
        {
            using var expected = await local.ForwardAsync([.. inputs.Select((tokens, i) => new SequenceInput(localCaches[i], tokens))], LogitsFor.AllTokens);
            using var actual = await router.ForwardAsync([.. inputs.Select((tokens, i) => new SequenceInput(routerCaches[i], tokens))], LogitsFor.AllTokens);
            worst = Math.Max(worst, (actual - expected).abs().max().item<float>());
            using var last = expected.index_select(0, tensor(LastRows(inputs), ScalarType.Int64)).argmax(-1);
            inputs = [.. last.data<long>().Select(t => (IReadOnlyList<int>)[(int)t])];
        }

        Assert.True(worst <= 1e-5, $"largest logit difference {worst:E2} exceeds 1e-5\n{shards.Output}");
    }

    private static long[] LastRows(IReadOnlyList<int>[] inputs)
    {
        var rows = new long[inputs.Length];
        var offset = 0;
        for (var i = 0; i < inputs.Length; i++)
        {
            offset += inputs[i].Count;
            rows[i] = offset - 1;
        }

        return rows;
    }

    private sealed class CacheSet(MoeModel model, int count) : IDisposable
    {
        private readonly KvCache[] _caches = [.. Enumerable.Range(0, count).Select(_ => model.CreateCache())];

        public KvCache this[int index] => _caches[index];

        public void Dispose()
        {
            foreach (var cache in _caches)
            {
                cache.Dispose();
            }
        }
    }
}
