using System.CommandLine;
using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Cli.Commands;

/// <summary><c>dsop bench moe</c>: the runtime's throughput on this machine, as ratios measured in one run.</summary>
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
        return new Command("bench", "Benchmarks (ratios measured in one run; never compare absolute figures across machines).") { moe };
    }
}
