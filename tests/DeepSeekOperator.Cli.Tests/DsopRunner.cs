namespace DeepSeekOperator.Cli.Tests;

/// <summary>Runs <c>dsop</c> in-process, capturing what it writes.</summary>
internal static class DsopRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await Dsop.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }
}
