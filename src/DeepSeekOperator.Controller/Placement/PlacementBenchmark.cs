using System.Diagnostics;
using System.Globalization;
using System.Text;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>One row of the placement benchmark table.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Target">What the figure aims for, where there is a target (an upper bound).</param>
public sealed record PlacementBenchmarkRow(string Name, double Value, string Unit, double? Target = null);

/// <summary>
/// The planner at DeepSeek-V3 dimensions (58 MoE layers × 256 experts in 8 groups, 32 shards × 9 slots: 32
/// redundant): the median time of <see cref="PlacementPlanner.Plan"/>, flat and on 4 nodes of 8 shards, and the
/// imbalance of the contiguous layout against the planned ones under the same Zipf-like load (in each layer,
/// the expert of rank r, in a random order, gets a load ∝ 1 / (r + 1)^0.8, times noise of ±10%).
/// </summary>
public static class PlacementBenchmark
{
    private const int Shards = 32;
    private const int SlotsPerShard = 9;
    private const int ShardsPerNode = 8;
    private const double ZipfExponent = 0.8;

    /// <summary>Runs every measurement.</summary>
    /// <param name="onRow">Called with each row as soon as it is measured.</param>
    /// <param name="quick">Fewer runs: checks the benchmark works; the times mean little.</param>
    public static IReadOnlyList<PlacementBenchmarkRow> Run(Action<PlacementBenchmarkRow>? onRow = null, bool quick = false)
    {
        var rows = new List<PlacementBenchmarkRow>();
        void Add(PlacementBenchmarkRow row)
        {
            rows.Add(row);
            onRow?.Invoke(row);
        }

        var config = new ModelConfig();
        var load = ZipfLoad(config, new Random(8));
        var runs = quick ? 3 : 15;
        var (flatTime, flat) = Median(runs, () => PlacementPlanner.Plan(config, load, "bench", 2, Shards, SlotsPerShard));
        var (nodesTime, nodes) = Median(runs, () => PlacementPlanner.Plan(config, load, "bench", 2, Shards, SlotsPerShard, ShardsPerNode));
        var dimensions = $"{config.MoeLayers.Count} layers × {config.NRoutedExperts} experts, {Shards} shards × {SlotsPerShard}";
        Add(new PlacementBenchmarkRow($"plan, flat ({dimensions})", flatTime, "ms", 1000));
        Add(new PlacementBenchmarkRow($"plan, {Shards / ShardsPerNode} nodes × {ShardsPerNode} shards", nodesTime, "ms", 1000));
        var contiguous = PlacementGenerator.Contiguous(config, "bench", 1, Shards, SlotsPerShard);
        Add(new PlacementBenchmarkRow("imbalance, contiguous", PlacementPlanner.Imbalance(contiguous, load), "max/mean"));
        Add(new PlacementBenchmarkRow("imbalance, planned flat", PlacementPlanner.Imbalance(flat, load), "max/mean"));
        Add(new PlacementBenchmarkRow($"imbalance, planned on {Shards / ShardsPerNode} nodes", PlacementPlanner.Imbalance(nodes, load), "max/mean"));
        return rows;
    }

    /// <summary>The rows as a markdown table.</summary>
    public static string ToMarkdown(IEnumerable<PlacementBenchmarkRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder("| measurement | value | unit | target | met |\n|---|---:|---|---:|---|\n");
        foreach (var row in rows)
        {
            var target = row.Target is { } t ? "< " + t.ToString("0", CultureInfo.InvariantCulture) : "";
            var met = row.Target is { } bound ? (row.Value < bound ? "yes" : "no") : "";
            text.Append(CultureInfo.InvariantCulture, $"| {row.Name} | {Format(row.Value)} | {row.Unit} | {target} | {met} |\n");
        }

        return text.ToString();
    }

    /// <summary>A figure with three significant decimals below 10, one above.</summary>
    public static string Format(double value) =>
        value.ToString(Math.Abs(value) < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture);

    private static ExpertLoad ZipfLoad(ModelConfig config, Random random) =>
        new(config.MoeLayers.Select(layer =>
        {
            var rank = Enumerable.Range(0, config.NRoutedExperts).ToArray();
            random.Shuffle(rank);
            var loads = new double[rank.Length];
            for (var expert = 0; expert < loads.Length; expert++)
            {
                loads[expert] = Math.Round(1e6 / Math.Pow(rank[expert] + 1, ZipfExponent) * (0.9 + (0.2 * random.NextDouble())));
            }

            return new LayerLoad(layer, loads);
        }));

    /// <summary>The median time of <paramref name="runs"/> calls after one to warm up, and the last result.</summary>
    private static (double Milliseconds, ExpertPlacement Result) Median(int runs, Func<ExpertPlacement> plan)
    {
        var result = plan();
        var times = new double[runs];
        for (var run = 0; run < runs; run++)
        {
            var start = Stopwatch.GetTimestamp();
            result = plan();
            times[run] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return (times[runs / 2], result);
    }
}
