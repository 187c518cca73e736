using System.CommandLine;
using DeepSeekOperator.Api;

namespace DeepSeekOperator.Cli.Commands;

/// <summary><c>dsop crd</c>: the DeepSeekModel CustomResourceDefinition, generated from the API types.</summary>
internal static class CrdCommand
{
    public static Command Create()
    {
        var output = new Option<FileInfo?>("--output", "-o")
        {
            Description = "Write the CRD to this file instead of standard output.",
        };
        var command = new Command("crd", "Print the DeepSeekModel CustomResourceDefinition (apply it with kubectl apply -f -).") { output };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var yaml = CustomResourceDefinitions.DeepSeekModelYaml();
            if (parseResult.GetValue(output) is { } file)
            {
                try
                {
                    await File.WriteAllTextAsync(file.FullName, yaml, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new CommandException($"cannot write {file.FullName}: {ex.Message}", ex);
                }
            }
            else
            {
                await parseResult.InvocationConfiguration.Output.WriteAsync(yaml).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }
}
