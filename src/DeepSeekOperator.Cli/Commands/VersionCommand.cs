using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using DeepSeekOperator.Api.V1Alpha1;

namespace DeepSeekOperator.Cli.Commands;

/// <summary><c>dsop version</c>: the build's version and commit, the runtime and the API version it serves.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the version of dsop, the commit it was built from, and the API version it serves.");
        command.SetAction(parseResult =>
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Describe());
            return 0;
        });
        return command;
    }

    /// <summary>For example <c>dsop 0.1.0 (commit 1a2b3c4d5e6f, .NET 10.0.1, linux-x64, API moe.deepseek-operator.io/v1alpha1)</c>.</summary>
    public static string Describe()
    {
        var informational = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0 ? informational : informational[..plus];
        var commit = plus < 0 ? "unknown" : informational[(plus + 1)..];
        if (commit.Length > 12)
        {
            commit = commit[..12];
        }

        return $"dsop {version} (commit {commit}, .NET {Environment.Version}, {RuntimeInformation.RuntimeIdentifier}, API {DeepSeekModel.GroupVersion})";
    }
}
