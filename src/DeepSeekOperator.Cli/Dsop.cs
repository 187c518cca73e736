using System.CommandLine;
using DeepSeekOperator.Cli.Commands;

namespace DeepSeekOperator.Cli;

/// <summary>The <c>dsop</c> command line: one binary for every role of the system.</summary>
public static class Dsop
{
    /// <summary>The exit code of a command line that cannot be parsed, as in most Unix tools.</summary>
    public const int UsageError = 2;

    /// <summary>Parses <paramref name="args"/> and runs the command, writing to the given streams.</summary>
    /// <returns>The process exit code: 0 on success, 2 for a command line that cannot be parsed, 1 when the command fails.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = BuildRootCommand();
        var parseResult = root.Parse(args);
        var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        if (parseResult.Errors.Count > 0)
        {
            foreach (var parseError in parseResult.Errors)
            {
                await error.WriteLineAsync($"dsop: {parseError.Message}").ConfigureAwait(false);
            }

            var names = new List<string>();
            for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            {
                names.Insert(0, result.Command == root ? "dsop" : result.Command.Name);
            }

            var name = string.Join(' ', names);
            await error.WriteLineAsync($"Run '{name} --help' for usage.").ConfigureAwait(false);
            return UsageError;
        }

        try
        {
            return await parseResult.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 130;
        }
        catch (CommandException ex)
        {
            await error.WriteLineAsync($"dsop: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The command tree.</summary>
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand(
            "dsop deploys and serves DeepSeek-V3-family Mixture-of-Experts models on Kubernetes. " +
            "Every pod of the system runs this one binary in a different role.")
        {
            VersionCommand.Create(),
            CrdCommand.Create(),
            RbacCommand.Create(),
            ModelCommand.Create(),
            BenchCommand.Create(),
            DevClusterCommand.Create(),
            ShardCommand.Create(),
            RouterCommand.Create(),
            OperatorCommand.Create(),
            RunCommand.Create(),
        };
        root.SetAction(parseResult =>
        {
            parseResult.InvocationConfiguration.Error.WriteLine(
                "dsop: a command is required. Commands: " + string.Join(", ", root.Subcommands.Select(c => c.Name)) + ".");
            parseResult.InvocationConfiguration.Error.WriteLine("Run 'dsop --help' for usage.");
            return UsageError;
        });
        return root;
    }
}

/// <summary>A failure of a command that the user can act on; its message is printed without a stack trace.</summary>
public sealed class CommandException(string message, Exception? inner = null) : Exception(message, inner);
