using System.CommandLine;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Benchmarks;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>
/// <c>dsop bench moe</c>: the runtime's throughput on this machine, as ratios measured in one run; <c>dsop bench api</c>:
/// the development API server's write rate, list latency and watch latency, against their targets; <c>dsop bench serving</c>:
/// an MoE layer step over gRPC to expert shards against the same step in-process, and the wire against loopback TCP;
/// <c>dsop bench operator</c>: many DeepSeekModels created at once, reconciled by the operator as its own process;
/// <c>dsop bench placement</c>: the placement planner's time at DeepSeek-V3 dimensions and the imbalance it removes;
/// <c>dsop bench autoscaler</c>: the time from a load step to the autoscaler's decision through a real Prometheus.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick")
        {
            Description = "Smaller sizes and fewer runs: checks the benchmark works, figures are not meaningful.",
        };
        var moe = new Command("moe", "Measure the matmul ceiling, MoE expert compute at DeepSeek-V2-Lite dimensions, and decode tokens/s of the small synthetic model.") { quick };
        moe.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            await error.WriteLineAsync($"{Environment.ProcessorCount} CPU threads; measuring (a few minutes)...").ConfigureAwait(false);
            var rows = await MoeBenchmark.RunAsync(
                row => error.WriteLine($"  {row.Name}: {row.Value:0.0} {row.Unit}"),
                parseResult.GetValue(quick),
                cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(MoeBenchmark.ToMarkdown(rows)).ConfigureAwait(false);
            return 0;
        });
        var api = new Command("api", "Measure the development API server through the official client over HTTPS: ConfigMap creates/s, list latency of a large namespace, and update-to-watch-event latency with many watchers.") { quick };
        api.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            await error.WriteLineAsync($"{Environment.ProcessorCount} CPU threads, server and clients in this process; measuring (under a minute)...").ConfigureAwait(false);
            var rows = await ApiBenchmark.RunAsync(error.WriteLine, parseResult.GetValue(quick), cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(ApiBenchmark.ToMarkdown(rows)).ConfigureAwait(false);
            return 0;
        });
        var serving = new Command("serving", "Measure raw loopback TCP throughput, an MoE layer step at DeepSeek-V2-Lite dimensions over gRPC to 4 expert shards against the same step in-process, and the wire's payload throughput.") { quick };
        serving.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            await error.WriteLineAsync($"{Environment.ProcessorCount} CPU threads, shards and router in this process; measuring (a few minutes)...").ConfigureAwait(false);
            var rows = await ServingBenchmark.RunAsync(
                row => error.WriteLine($"  {row.Name}: {ServingBenchmark.Format(row.Value)} {row.Unit}"),
                parseResult.GetValue(quick),
                cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(ServingBenchmark.ToMarkdown(rows)).ConfigureAwait(false);
            return 0;
        });
        var models = new Option<int>("--models")
        {
            Description = $"How many DeepSeekModels to create at once (default {OperatorBenchmark.DefaultModels}; {OperatorBenchmark.QuickModels} with --quick).",
        };
        var operatorBench = new Command("operator", "Measure the operator as its own process against the development cluster with simulated pods: many DeepSeekModels created at once, the time until all are Ready, reconciles/s and the operator's peak memory.")
        {
            models, quick,
        };
        operatorBench.Validators.Add(result =>
        {
            if (result.GetResult(models) is { Implicit: false } && result.GetValue(quick))
            {
                result.AddError($"--quick creates {OperatorBenchmark.QuickModels} models: give --models or --quick, not both");
            }

            if (result.GetResult(models) is { Implicit: false } && result.GetValue(models) < 1)
            {
                result.AddError($"--models must be at least 1, got {result.GetValue(models)}");
            }
        });
        operatorBench.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var count = parseResult.GetValue(quick) ? OperatorBenchmark.QuickModels
                : parseResult.GetResult(models) is { Implicit: false } ? parseResult.GetValue(models)
                : OperatorBenchmark.DefaultModels;
            await error.WriteLineAsync($"{Environment.ProcessorCount} CPU threads, dev cluster in this process, the operator in its own; measuring {count} models...").ConfigureAwait(false);
            var rows = await OperatorBenchmark.RunAsync(count, error.WriteLine, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(OperatorBenchmark.ToMarkdown(rows)).ConfigureAwait(false);
            return 0;
        });
        var placement = new Command("placement", "Measure the placement planner at DeepSeek-V3 dimensions (58 MoE layers × 256 experts, 32 shards, 32 redundant slots) under a Zipf-like load, and the imbalance before and after.") { quick };
        placement.SetAction(async (parseResult, _) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            await error.WriteLineAsync("measuring (seconds)...").ConfigureAwait(false);
            var rows = PlacementBenchmark.Run(
                row => error.WriteLine($"  {row.Name}: {PlacementBenchmark.Format(row.Value)} {row.Unit}"),
                parseResult.GetValue(quick));
            await output.WriteAsync(PlacementBenchmark.ToMarkdown(rows)).ConfigureAwait(false);
            return 0;
        });
        var autoscaler = new Command("autoscaler", "Measure the autoscaler's reaction time: from a step in the routers' in-flight requests to the scale decision, with the default 15 s interval and a real Prometheus scraping every 5 s (about 3 minutes), against the documented default periods of HPA and KEDA.") { quick };
        autoscaler.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            await error.WriteLineAsync("starting prometheus and the router metric endpoints...").ConfigureAwait(false);
            var rows = await AutoscalerBenchmark.RunAsync(parseResult.GetValue(quick), error.WriteLine, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(AutoscalerBenchmark.ToMarkdown(rows)).ConfigureAwait(false);
            return 0;
        });
        return new Command("bench", "Benchmarks (ratios measured in one run; never compare absolute figures across machines).") { moe, api, serving, operatorBench, placement, autoscaler };
    }
}
