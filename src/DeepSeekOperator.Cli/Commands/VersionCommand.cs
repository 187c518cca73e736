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
        var (version, commit) = Informational();
        if (commit.Length > 12)
        {
            commit = commit[..12];
        }

        return $"dsop {version} (commit {commit}, .NET {Environment.Version}, {RuntimeInformation.RuntimeIdentifier}, API {DeepSeekModel.GroupVersion})";
    }

    /// <summary>The build's version without its commit, e.g. <c>0.1.0</c>: the tag of this binary's image.</summary>
    public static string Version => Informational().Version;

    private static (string Version, string Commit) Informational()
    {
        var informational = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, "unknown") : (informational[..plus], informational[(plus + 1)..]);
    }
}
