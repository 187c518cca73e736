using System.Diagnostics;
using System.Globalization;
using System.Text;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Router;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Benchmarks;

/// <summary>A ratio a measurement aims for: at most (a cost) or at least (a throughput) <see cref="Ratio"/>.</summary>
/// <param name="Ratio">The bound.</param>
/// <param name="AtMost">Whether the ratio must stay at or below the bound (otherwise at or above it).</param>
public sealed record ServingBenchmarkTarget(double Ratio, bool AtMost)
{
    /// <summary>Whether <paramref name="ratio"/> meets the target.</summary>
    public bool IsMetBy(double ratio) => AtMost ? ratio <= Ratio : ratio >= Ratio;

    /// <inheritdoc />
    public override string ToString() => (AtMost ? "≤ " : "≥ ") + Ratio.ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>One row of the serving benchmark table.</summary>
/// <param name="Name">What was measured; where there is a ratio, the name says what it is relative to.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Ratio">The figure relative to its reference (the in-process step, or the loopback ceiling).</param>
/// <param name="Target">What the ratio aims for, where there is a target.</param>
public sealed record ServingBenchmarkRow(string Name, double Value, string Unit, double? Ratio = null, ServingBenchmarkTarget? Target = null);

/// <summary>
/// Measures, in one run: raw loopback TCP throughput (the ceiling of any wire on this machine); one MoE layer
/// step at DeepSeek-V2-Lite dimensions in this process against the same step over gRPC to 4 expert shards
/// (in-process Kestrel servers on loopback, called through <see cref="RemoteExpertExecutor"/>), at several
/// batch sizes, with the payload bytes per token; and the throughput of a step whose cost is its payload (one
/// shard, many tokens, tiny experts) against the loopback ceiling. Each time is the best of several runs after
/// a warm-up, the two sides of a ratio alternating so that a busy machine slows both alike.
/// </summary>
/// <remarks>
/// Both sides hold the same random weights. The in-process executor runs its experts on as many single-threaded
/// workers as libtorch has threads; each shard runs its 16 experts one after another on the thread of the call
/// (<c>threads: 1</c>), so the 4 shards' calls together keep the same cores busy.
/// </remarks>
public static class ServingBenchmark
{
    private const int Shards = 4;
    private const int Layer = 1;
    private const string ModelId = "bench";

    /// <summary>Runs every measurement, reporting each row as it completes.</summary>
    /// <param name="onRow">Called with each row as soon as it is measured.</param>
    /// <param name="quick">Small experts, sizes and run counts: checks the benchmark works; the figures mean little.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<IReadOnlyList<ServingBenchmarkRow>> RunAsync(Action<ServingBenchmarkRow>? onRow = null, bool quick = false, CancellationToken cancellationToken = default)
    {
        var sizes = quick ? Sizes.Quick : Sizes.Full;
        var rows = new List<ServingBenchmarkRow>();
        void Add(ServingBenchmarkRow row)
        {
            rows.Add(row);
            onRow?.Invoke(row);
        }

        var loopback = await LoopbackThroughput.MeasureAsync(sizes.LoopbackBytes, 3, cancellationToken).ConfigureAwait(false);
        Add(new ServingBenchmarkRow("raw loopback TCP, one connection (ceiling)", loopback / 1e6, "MB/s"));
        var payload = sizes.PayloadTokens * LayerConfig(16).HiddenSize * sizeof(float);
        var (http1, http2, grpc) = await TransportCeilings.MeasureAsync(payload, sizes.PayloadRuns, cancellationToken).ConfigureAwait(false);
        var echo = $"{payload / 1e6:0.0} MB each way, Kestrel and HttpClient (÷ loopback)";
        Add(new ServingBenchmarkRow($"HTTP/1.1 echo, {echo}", http1 / 1e6, "MB/s", http1 / loopback));
        Add(new ServingBenchmarkRow($"HTTP/2 echo, {echo}", http2 / 1e6, "MB/s", http2 / loopback));
        Add(new ServingBenchmarkRow($"gRPC Forward echo, no tensor work, {echo}", grpc / 1e6, "MB/s", grpc / loopback));
        await LayerStepsAsync(sizes, Add, cancellationToken).ConfigureAwait(false);
        await PayloadBoundAsync(sizes, loopback, Add, cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <summary>The rows as a Markdown table.</summary>
    public static string ToMarkdown(IEnumerable<ServingBenchmarkRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder("| measurement | value | unit | ratio | target | met |\n|---|---:|---|---:|---:|---|\n");
        foreach (var row in rows)
        {
            var ratio = row.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "";
            var met = row.Target is null || row.Ratio is null ? "" : row.Target.IsMetBy(row.Ratio.Value) ? "yes" : "no";
            text.Append(CultureInfo.InvariantCulture, $"| {row.Name} | {Format(row.Value)} | {row.Unit} | {ratio} | {row.Target} | {met} |\n");
        }

        return text.ToString();
    }

    /// <summary>A figure with one decimal, or in scientific notation when it is that small (output differences).</summary>
    public static string Format(double value) =>
        value != 0 && Math.Abs(value) < 0.1 ? value.ToString("0.0e+0", CultureInfo.InvariantCulture) : value.ToString("0.0", CultureInfo.InvariantCulture);

    private static async Task LayerStepsAsync(Sizes sizes, Action<ServingBenchmarkRow> add, CancellationToken cancellationToken)
    {
        var config = LayerConfig(sizes.Intermediate);
        var weights = RandomExperts(config);
        var placement = PlacementGenerator.Contiguous(config, ModelId, 1, Shards, config.NRoutedExperts / Shards);
        var locator = new ExpertLocator(placement, config);
        var servers = new List<BenchmarkShard>();
        // The in-process side gets copies; the originals go to the shards, which own and free them.
        using var local = new LocalExpertExecutor(config, ForLayer(weights.ToDictionary(w => w.Key, w => Copy(w.Value))));
        try
        {
            for (var shard = 0; shard < Shards; shard++)
            {
                var held = locator.ExpertsOn(shard, Layer).ToDictionary(e => e, e => weights.Remove(e, out var w) ? w : throw new InvalidOperationException($"expert {e} is placed twice"));
                servers.Add(await BenchmarkShard.StartAsync(config, locator, shard, new LocalExpertExecutor(config, ForLayer(held), threads: 1), cancellationToken).ConfigureAwait(false));
            }

            var resolver = new StaticShardResolver(new ShardEndpoints(servers.Select(s => new[] { s.Endpoint })));
            await using var float32 = Remote(config, placement, resolver, TensorDtype.Float32);
            await using var bfloat16 = Remote(config, placement, resolver, TensorDtype.Bfloat16);
            var random = new Random(1);
            foreach (var tokens in sizes.Tokens)
            {
                using var hidden = randn(tokens, config.HiddenSize);
                var assignments = RandomAssignments(config, tokens, random);
                var name = $"{tokens} token{(tokens == 1 ? "" : "s")}";
                var target = tokens == sizes.Tokens[^1] ? new ServingBenchmarkTarget(1.5, AtMost: true) : null;

                // Once, untimed: both sides agree, and the wire payload of one step; then the sides alternate.
                (string Wire, RemoteExpertExecutor Executor)[] wires = tokens == sizes.Tokens[^1] ? [("float32", float32), ("bfloat16", bfloat16)] : [("float32", float32)];
                var checks = new List<(double Difference, long Bytes)>();
                foreach (var (_, executor) in wires)
                {
                    checks.Add((await MaxDifferenceAsync(local, executor, hidden, assignments, cancellationToken).ConfigureAwait(false), await WireBytesAsync(executor, servers, hidden, assignments, cancellationToken).ConfigureAwait(false)));
                }

                var (inProcess, sharded) = await TimeAsync(local, [.. wires.Select(w => w.Executor)], hidden, assignments, sizes.Runs(tokens), cancellationToken).ConfigureAwait(false);
                add(new ServingBenchmarkRow($"MoE layer step in-process, {name}", inProcess * 1e3, "ms"));
                for (var i = 0; i < wires.Length; i++)
                {
                    var wire = wires[i].Wire;
                    add(new ServingBenchmarkRow($"max abs difference, 4 shards ({wire} wire) vs in-process, {name}", checks[i].Difference, ""));
                    add(new ServingBenchmarkRow($"MoE layer step, 4 shards over gRPC, {wire} wire, {name} (÷ in-process)", sharded[i] * 1e3, "ms", sharded[i] / inProcess, i == 0 ? target : null));
                    add(new ServingBenchmarkRow($"wire payload per token, {wire}, {name}", (double)checks[i].Bytes / tokens, "bytes"));
                }
            }
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var expert in weights.Values)
            {
                Dispose(expert);
            }
        }
    }

    /// <summary>
    /// One shard holding every expert, with an intermediate size of 16: a step of many tokens, one expert each,
    /// is almost all payload (hidden rows out, partial results back) and little arithmetic.
    /// </summary>
    private static async Task PayloadBoundAsync(Sizes sizes, double loopback, Action<ServingBenchmarkRow> add, CancellationToken cancellationToken)
    {
        var config = LayerConfig(16);
        var placement = PlacementGenerator.Contiguous(config, ModelId, 1, shards: 1, slotsPerShard: config.NRoutedExperts);
        var locator = new ExpertLocator(placement, config);
        var weights = RandomExperts(config);
        using var local = new LocalExpertExecutor(config, ForLayer(weights.ToDictionary(w => w.Key, w => Copy(w.Value))));
        var server = await BenchmarkShard.StartAsync(config, locator, 0, new LocalExpertExecutor(config, ForLayer(weights)), cancellationToken).ConfigureAwait(false);
        await using (server.ConfigureAwait(false))
        {
            await using var remote = Remote(config, placement, new StaticShardResolver(new ShardEndpoints([[server.Endpoint]])), TensorDtype.Float32);
            var tokens = sizes.PayloadTokens;
            using var hidden = randn(tokens, config.HiddenSize);
            var assignments = new ExpertAssignments(
                tokens,
                [.. Enumerable.Range(0, tokens)],
                [.. Enumerable.Range(0, tokens).Select(t => t % config.NRoutedExperts)],
                [.. Enumerable.Repeat(1f, tokens)]);
            var wireBytes = await WireBytesAsync(remote, [server], hidden, assignments, cancellationToken).ConfigureAwait(false);
            var (inProcess, sharded) = await TimeAsync(local, [remote], hidden, assignments, sizes.PayloadRuns, cancellationToken).ConfigureAwait(false);
            var name = $"1 shard, {tokens} tokens × 1 expert of intermediate size 16";
            add(new ServingBenchmarkRow($"payload-bound step in-process (its compute), {name}", inProcess * 1e3, "ms"));
            add(new ServingBenchmarkRow($"payload-bound step over gRPC, {name}: {wireBytes / 1e6:0.0} MB payload", sharded[0] * 1e3, "ms"));
            var throughput = wireBytes / sharded[0];
            add(new ServingBenchmarkRow("payload-bound wire throughput, float32 (÷ loopback)", throughput / 1e6, "MB/s", throughput / loopback, new ServingBenchmarkTarget(0.5, AtMost: false)));
        }
    }

    private static ModelConfig LayerConfig(int intermediate) => new()
    {
        HiddenSize = 2048,
        MoeIntermediateSize = intermediate,
        NRoutedExperts = 64,
        NumExpertsPerToken = 6,
        NGroup = 1,
        TopKGroup = 1,
        TopKMethod = TopKMethod.Greedy,
        ScoringFunction = ScoringFunction.Softmax,
        NumHiddenLayers = 2,
        FirstKDenseReplace = 1,
    };

    private static Dictionary<int, ExpertWeights> RandomExperts(ModelConfig config) =>
        Enumerable.Range(0, config.NRoutedExperts).ToDictionary(e => e, _ => ExpertWeights.Random(config));

    private static ExpertWeights Copy(ExpertWeights weights) => new(weights.Gate.clone(), weights.Up.clone(), weights.Down.clone());

    private static void Dispose(ExpertWeights weights)
    {
        weights.Gate.Dispose();
        weights.Up.Dispose();
        weights.Down.Dispose();
    }

    private static Dictionary<int, IReadOnlyDictionary<int, ExpertWeights>> ForLayer(IReadOnlyDictionary<int, ExpertWeights> experts) => new() { [Layer] = experts };

    /// <summary>Each token routed to top-k distinct experts drawn uniformly, like a balanced gate.</summary>
    private static ExpertAssignments RandomAssignments(ModelConfig config, int tokens, Random random)
    {
        var k = config.NumExpertsPerToken;
        var tokenIds = new int[tokens * k];
        var expertIds = new int[tokens * k];
        var gateWeights = new float[tokens * k];
        for (var t = 0; t < tokens; t++)
        {
            var chosen = Enumerable.Range(0, config.NRoutedExperts).OrderBy(_ => random.Next()).Take(k).ToArray();
            for (var j = 0; j < k; j++)
            {
                tokenIds[(t * k) + j] = t;
                expertIds[(t * k) + j] = chosen[j];
                gateWeights[(t * k) + j] = 1f / k;
            }
        }

        return new ExpertAssignments(tokens, tokenIds, expertIds, gateWeights);
    }

    private static RemoteExpertExecutor Remote(ModelConfig config, ExpertPlacement placement, StaticShardResolver resolver, TensorDtype wire) =>
        new(new RemoteExpertOptions { Config = config, WireDtype = wire }, placement, resolver, new RouterMetrics(Metrics.NewCustomRegistry()), NullLogger<RemoteExpertExecutor>.Instance);

    private static async Task<double> MaxDifferenceAsync(LocalExpertExecutor local, RemoteExpertExecutor remote, Tensor hidden, ExpertAssignments assignments, CancellationToken cancellationToken)
    {
        using var expected = local.Forward(Layer, hidden, assignments);
        using var actual = await remote.ForwardAsync(Layer, hidden, assignments, cancellationToken).ConfigureAwait(false);
        using var difference = expected.sub(actual).abs_().max();
        return difference.item<float>();
    }

    /// <summary>The protobuf bytes of one step's requests and responses, as the shards received and answered them.</summary>
    private static async Task<long> WireBytesAsync(RemoteExpertExecutor remote, IReadOnlyList<BenchmarkShard> servers, Tensor hidden, ExpertAssignments assignments, CancellationToken cancellationToken)
    {
        var before = servers.Sum(s => s.PayloadBytes);
        using (await remote.ForwardAsync(Layer, hidden, assignments, cancellationToken).ConfigureAwait(false))
        {
        }

        return servers.Sum(s => s.PayloadBytes) - before;
    }

    /// <summary>The best of <paramref name="runs"/> steps of each executor, after one warm-up step each, the executors taking turns.</summary>
    private static async Task<(double InProcess, double[] Remote)> TimeAsync(LocalExpertExecutor local, RemoteExpertExecutor[] remotes, Tensor hidden, ExpertAssignments assignments, int runs, CancellationToken cancellationToken)
    {
        var bestLocal = double.MaxValue;
        var bestRemote = remotes.Select(_ => double.MaxValue).ToArray();
        for (var run = 0; run <= runs; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = Stopwatch.GetTimestamp();
            using (local.Forward(Layer, hidden, assignments))
            {
            }

            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            // The first run of each is the warm-up.
            bestLocal = run > 0 ? Math.Min(bestLocal, seconds) : bestLocal;
            for (var i = 0; i < remotes.Length; i++)
            {
                start = Stopwatch.GetTimestamp();
                using (await remotes[i].ForwardAsync(Layer, hidden, assignments, cancellationToken).ConfigureAwait(false))
                {
                }

                seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                bestRemote[i] = run > 0 ? Math.Min(bestRemote[i], seconds) : bestRemote[i];
            }
        }

        return (bestLocal, bestRemote);
    }

    /// <param name="Intermediate">The experts' intermediate size.</param>
    /// <param name="Tokens">The batch sizes of the layer steps; the last one has a target and is also measured with a bfloat16 wire.</param>
    /// <param name="SmallRuns">Timed runs per side below 512 tokens.</param>
    /// <param name="LargeRuns">Timed runs per side from 512 tokens.</param>
    /// <param name="LoopbackBytes">The bytes of one loopback transfer.</param>
    /// <param name="PayloadTokens">The tokens of the payload-bound step.</param>
    /// <param name="PayloadRuns">Timed runs per side of the payload-bound step.</param>
    private sealed record Sizes(int Intermediate, int[] Tokens, int SmallRuns, int LargeRuns, long LoopbackBytes, int PayloadTokens, int PayloadRuns)
    {
        /// <summary>V2-Lite's expert size; about two minutes.</summary>
        public static Sizes Full { get; } = new(1408, [1, 64, 512], 10, 4, 1L << 30, 4096, 5);

        /// <summary>Experts 44 times smaller than V2-Lite's, smaller batches and fewer bytes: seconds, even in a Debug build.</summary>
        public static Sizes Quick { get; } = new(32, [1, 8, 64], 2, 2, 64L << 20, 512, 2);

        /// <summary>Timed runs per side: fewer for slow steps.</summary>
        public int Runs(int tokens) => tokens >= 512 ? LargeRuns : SmallRuns;
    }
}
