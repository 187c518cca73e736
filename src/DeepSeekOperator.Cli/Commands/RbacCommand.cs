using System.CommandLine;
using DeepSeekOperator.Controller.Rbac;

namespace DeepSeekOperator.Cli.Commands;

/// <summary><c>dsop rbac</c>: the operator's RBAC manifests and their kustomization, generated from its permission table.</summary>
internal static class RbacCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo?>("--output-dir", "-o")
        {
            Description = "Write one file per manifest, and kustomization.yaml, into this directory instead of printing them.",
        };
        var command = new Command("rbac", "Print the operator's ServiceAccount, ClusterRole, leader election Role and their bindings.") { output };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var files = OperatorRbac.Files();
            if (parseResult.GetValue(output) is { } directory)
            {
                foreach (var file in files)
                {
                    var path = Path.Combine(directory.FullName, file.Name);
                    try
                    {
                        await File.WriteAllTextAsync(path, file.Content, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        throw new CommandException($"cannot write {path}: {ex.Message}", ex);
                    }
                }
            }
            else
            {
                var documents = files.Where(file => file.Name != "kustomization.yaml").Select(file => file.Content);
                await parseResult.InvocationConfiguration.Output.WriteAsync(string.Join("---\n", documents)).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }
}
