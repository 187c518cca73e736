using System.CommandLine;
using DeepSeekOperator.DevCluster;

namespace DeepSeekOperator.Cli.Commands;

/// <summary><c>dsop dev-cluster</c>: the local development cluster (never a production platform).</summary>
internal static class DevClusterCommand
{
    public static Command Create()
    {
        var command = new Command("dev-cluster", "Run a local Kubernetes development cluster for trying the operator and for tests. Production is always real Kubernetes.")
        {
            CreateApi(),
        };
        foreach (var subcommand in DevClusterUp.Create())
        {
            command.Subcommands.Add(subcommand);
        }

        return command;
    }

    private static Command CreateApi()
    {
        var port = new Option<int>("--port") { Description = "HTTPS port on 127.0.0.1 (0 picks a free one).", DefaultValueFactory = _ => 6443 };
        var httpPort = new Option<int>("--http-port") { Description = "Plain-HTTP port on 127.0.0.1, unauthenticated (0 picks a free one, -1 serves none).", DefaultValueFactory = _ => 8001 };
        var stateDir = new Option<DirectoryInfo?>("--state-dir") { Description = "Keep objects (and the server's certificates) in this directory across restarts." };
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "Where to write the kubeconfig (default: <state-dir>/kubeconfig, or ~/.dsop/dev-cluster/kubeconfig)." };
        var command = new Command("api", "Start the Kubernetes API server alone, write a kubeconfig, and serve until interrupted.") { port, httpPort, stateDir, kubeconfig };
        command.Validators.Add(result =>
        {
            if (result.GetValue(port) is < 0 or > 65535)
            {
                result.AddError("--port must be between 0 and 65535");
            }

            if (result.GetValue(httpPort) is < -1 or > 65535)
            {
                result.AddError("--http-port must be between -1 and 65535");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var state = parseResult.GetValue(stateDir)?.FullName;
            var kubeconfigPath = parseResult.GetValue(kubeconfig)?.FullName
                ?? (state is not null ? Path.Combine(state, "kubeconfig")
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dsop", "dev-cluster", "kubeconfig"));
            var options = new ApiServerOptions
            {
                HttpsPort = parseResult.GetValue(port),
                HttpPort = parseResult.GetValue(httpPort) is var plain && plain >= 0 ? plain : null,
                StateDirectory = state,
            };
            ApiServer server;
            try
            {
                server = await ApiServer.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new CommandException($"cannot start the API server: {ex.Message}", ex);
            }

            await using (server.ConfigureAwait(false))
            {
                try
                {
                    server.WriteKubeconfig(kubeconfigPath);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new CommandException($"cannot write {kubeconfigPath}: {ex.Message}", ex);
                }

                await output.WriteLineAsync($"Kubernetes API server (dev cluster) listening on {server.HttpsUri}" +
                    (server.HttpUri is null ? "" : $" and {server.HttpUri} (plain HTTP, no authentication)")).ConfigureAwait(false);
                await output.WriteLineAsync($"Wrote kubeconfig to {kubeconfigPath}; use it with:").ConfigureAwait(false);
                await output.WriteLineAsync($"  export KUBECONFIG={kubeconfigPath}").ConfigureAwait(false);
                await output.WriteLineAsync("  kubectl get namespaces").ConfigureAwait(false);
                await output.WriteLineAsync(state is null
                    ? "Objects are kept in memory only; pass --state-dir to keep them across restarts."
                    : $"Objects are kept in {state}.").ConfigureAwait(false);
                await output.WriteLineAsync("This is a development cluster, not a production control plane. Press Ctrl+C to stop.").ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return 0;
        });
        return command;
    }
}
