using System.Diagnostics;
using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe;

/// <summary>One row of the benchmark table.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="OfCeiling">The fraction of the matmul ceiling's FLOP/s, where the row does matmuls.</param>
public sealed record BenchmarkRow(string Name, double Value, string Unit, double? OfCeiling = null);

/// <summary>
/// Measures, in one run: the machine's float32 matmul ceiling; the routed-expert compute of one MoE layer at
/// DeepSeek-V2-Lite dimensions for several batch sizes, as tokens/s and as a fraction of the ceiling; and
/// decode tokens/s of the <c>small</c> synthetic model. Each figure is the best of several timed runs after
/// a warm-up, and each expert measurement is interleaved with a fresh ceiling measurement, so that a noisy
/// neighbour slows both sides of a ratio alike.
/// </summary>
public static class MoeBenchmark
{
    /// <summary>Runs every measurement, reporting each row as it completes.</summary>
    public static async Task<IReadOnlyList<BenchmarkRow>> RunAsync(Action<BenchmarkRow>? onRow = null, bool quick = false, CancellationToken cancellationToken = default)
    {
        var rows = new List<BenchmarkRow>();
        void Add(BenchmarkRow row)
        {
            rows.Add(row);
            onRow?.Invoke(row);
        }

        var ceiling = MatmulGflops(quick ? 1024 : 2048);
        Add(new BenchmarkRow($"float32 matmul {(quick ? 1024 : 2048)}³ (ceiling)", ceiling, "GFLOP/s", 1));
        foreach (var tokens in quick ? new[] { 1, 16 } : [1, 16, 256, 1024])
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (tokensPerSecond, gflops, adjacentCeiling) = ExpertLayer(tokens, quick);
            Add(new BenchmarkRow($"MoE experts, V2-Lite dims, {tokens} tokens", tokensPerSecond, "tokens/s", gflops / adjacentCeiling));
        }

        foreach (var batch in new[] { 1, 16 })
        {
            var tokensPerSecond = await DecodeAsync(batch, quick ? 4 : 32, cancellationToken).ConfigureAwait(false);
            Add(new BenchmarkRow($"decode, small preset, batch {batch}", tokensPerSecond, "tokens/s"));
        }

        return rows;
    }

    /// <summary>The rows as a Markdown table.</summary>
    public static string ToMarkdown(IEnumerable<BenchmarkRow> rows)
    {
        var text = new StringBuilder("| measurement | value | unit | of matmul ceiling |\n|---|---:|---|---:|\n");
        foreach (var row in rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Value:0.0} | {row.Unit} | {(row.OfCeiling is { } f ? f.ToString("0.00", CultureInfo.InvariantCulture) : "")} |\n");
        }

        return text.ToString();
    }

    private static double MatmulGflops(int n)
    {
        using var a = randn(n, n);
        using var b = randn(n, n);
        var seconds = Best(5, () =>
        {
            using var c = a.matmul(b);
        });
        return 2.0 * n * n * n / seconds / 1e9;
    }

    private static (double TokensPerSecond, double Gflops, double Ceiling) ExpertLayer(int tokens, bool quick)
    {
        var config = new ModelConfig
        {
            HiddenSize = 2048,
            MoeIntermediateSize = 1408,
            NRoutedExperts = 64,
            NumExpertsPerToken = 6,
            NGroup = 1,
            TopKGroup = 1,
            TopKMethod = TopKMethod.Greedy,
            ScoringFunction = ScoringFunction.Softmax,
            NumHiddenLayers = 2,
            FirstKDenseReplace = 1,
        };
        var experts = quick ? 16 : config.NRoutedExperts;
        var weights = new Dictionary<int, ExpertWeights>();
        for (var e = 0; e < experts; e++)
        {
            weights[e] = ExpertWeights.Random(config);
        }

        using var executor = new LocalExpertExecutor(config, new Dictionary<int, IReadOnlyDictionary<int, ExpertWeights>> { [1] = weights });
        using var hidden = randn(tokens, config.HiddenSize);

        // Uniformly random distinct experts per token, like a balanced gate.
        var random = new Random(tokens);
        var k = config.NumExpertsPerToken;
        var tokenIds = new int[tokens * k];
        var expertIds = new int[tokens * k];
        var gateWeights = new float[tokens * k];
        for (var t = 0; t < tokens; t++)
        {
            var chosen = Enumerable.Range(0, experts).OrderBy(_ => random.Next()).Take(k).ToArray();
            for (var j = 0; j < k; j++)
            {
                tokenIds[(t * k) + j] = t;
                expertIds[(t * k) + j] = chosen[j];
                gateWeights[(t * k) + j] = 1f / k;
            }
        }

        var assignments = new ExpertAssignments(tokens, tokenIds, expertIds, gateWeights);
        // Alternate expert runs and ceiling runs; keep the best of each.
        var seconds = double.MaxValue;
        var ceiling = 0.0;
        for (var round = 0; round < 3; round++)
        {
            seconds = Math.Min(seconds, Best(tokens >= 256 ? 2 : 4, () =>
            {
                using var output = executor.Forward(1, hidden, assignments);
            }));
            ceiling = Math.Max(ceiling, MatmulGflops(quick ? 1024 : 2048));
        }

        var flops = 2.0 * 3 * config.HiddenSize * config.MoeIntermediateSize * tokens * k;
        return (tokens / seconds, flops / seconds / 1e9, ceiling);
    }

    private static async Task<double> DecodeAsync(int batch, int steps, CancellationToken cancellationToken)
    {
        var config = SyntheticModel.Config(SyntheticPreset.Small);
        using var model = MoeModel.FromWeights(config, SyntheticModel.Weights(config, seed: 1), ScalarType.Float32, CPU);
        var caches = Enumerable.Range(0, batch).Select(_ => model.CreateCache(64 + steps)).ToArray();
        try
        {
            var prompt = Enumerable.Range(0, 32).Select(i => 256 + i).ToArray();
            using (await model.ForwardAsync([.. caches.Select(c => new SequenceInput(c, prompt))], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
            }

            // Warm-up step, then timed steps: every sequence decodes one token per step.
            var watch = new Stopwatch();
            for (var step = -1; step < steps; step++)
            {
                if (step == 0)
                {
                    watch.Start();
                }

                using var logits = await model.ForwardAsync([.. caches.Select((c, i) => new SequenceInput(c, [(step + i + 300) % config.VocabSize]))], cancellationToken: cancellationToken).ConfigureAwait(false);
                using var next = logits.argmax(-1).cpu();
            }

            return batch * steps / watch.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var cache in caches)
            {
                cache.Dispose();
            }
        }
    }

    /// <summary>The shortest of <paramref name="runs"/> timed runs after one warm-up run.</summary>
    private static double Best(int runs, Action action)
    {
        action();
        var best = double.MaxValue;
        for (var i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            action();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        return best;
    }
}
