using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DeepSeekOperator.DevCluster;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>
/// <c>dsop dev-cluster up</c>, <c>down</c> and the hidden <c>run</c>: the whole development cluster as a background
/// process that <c>up</c> starts (in its own session, its output in a log file, its pid in a pid file) and
/// <c>down</c> stops (SIGTERM, so pods get their grace period; SIGKILL only if it does not stop in time).
/// </summary>
internal static class DevClusterUp
{
    private const string PidFile = "dev-cluster.pid";
    private const string LogFile = "dev-cluster.log";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The repository of the project's own image, which the pod runner maps to this binary.</summary>
    public const string ProjectImage = "ghcr.io/deepseek-operator/dsop";

    public static IEnumerable<Command> Create()
    {
        yield return CreateUp();
        yield return CreateDown();
        yield return CreateRun();
    }

    private sealed class ClusterOptions
    {
        public Option<int> Port { get; } = new("--port") { Description = "HTTPS port of the API server on 127.0.0.1 (0 picks a free one).", DefaultValueFactory = _ => 6443 };

        public Option<int> HttpPort { get; } = new("--http-port") { Description = "Plain-HTTP port on 127.0.0.1, unauthenticated (0 picks a free one, -1 serves none).", DefaultValueFactory = _ => 8001 };

        public Option<DirectoryInfo?> StateDir { get; } = new("--state-dir") { Description = "Keep objects (and the server's certificates) in this directory across restarts." };

        public Option<DirectoryInfo?> RuntimeDir { get; } = new("--runtime-dir") { Description = "Where the pid file, the log, the kubeconfig and pods' files live (default ~/.dsop/dev-cluster)." };

        public Option<string[]> Nodes { get; } = new("--node")
        {
            Description = "A virtual node NAME:CPU:MEMORY[:GPUS], e.g. gpu-1:16:64Gi:8 (repeatable; default one node sized like this machine).",
            AllowMultipleArgumentsPerToken = false,
        };

        public Option<string[]> Images { get; } = new("--image")
        {
            Description = $"Run an image as a local process: IMAGE=COMMAND, the command split at spaces (repeatable). {ProjectImage} runs this dsop unless mapped otherwise; other images are simulated.",
        };

        public void AddTo(Command command)
        {
            command.Options.Add(Port);
            command.Options.Add(HttpPort);
            command.Options.Add(StateDir);
            command.Options.Add(RuntimeDir);
            command.Options.Add(Nodes);
            command.Options.Add(Images);
            command.Validators.Add(result =>
            {
                if (result.GetValue(Port) is < 0 or > 65535)
                {
                    result.AddError("--port must be between 0 and 65535");
                }

                if (result.GetValue(HttpPort) is < -1 or > 65535)
                {
                    result.AddError("--http-port must be between -1 and 65535");
                }

                foreach (var node in result.GetValue(Nodes) ?? [])
                {
                    if (ParseNode(node) is null)
                    {
                        result.AddError($"--node {node}: expected NAME:CPU:MEMORY[:GPUS], e.g. gpu-1:16:64Gi:8");
                    }
                }

                foreach (var image in result.GetValue(Images) ?? [])
                {
                    if (!image.Contains('=', StringComparison.Ordinal) || image.StartsWith('=') || image.EndsWith('='))
                    {
                        result.AddError($"--image {image}: expected IMAGE=COMMAND");
                    }
                }
            });
        }

        public string RuntimeDirectory(ParseResult result) =>
            result.GetValue(RuntimeDir)?.FullName
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dsop", "dev-cluster");

        public DevClusterOptions ToOptions(ParseResult result)
        {
            var (self, prefix) = SelfCommand();
            var images = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [ProjectImage] = [self, .. prefix] };
            foreach (var image in result.GetValue(Images) ?? [])
            {
                var split = image.IndexOf('=', StringComparison.Ordinal);
                images[image[..split]] = image[(split + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            }

            return new DevClusterOptions
            {
                Api = new ApiServerOptions
                {
                    HttpsPort = result.GetValue(Port),
                    HttpPort = result.GetValue(HttpPort) is var plain && plain >= 0 ? plain : null,
                    StateDirectory = result.GetValue(StateDir)?.FullName,
                },
                RuntimeDirectory = Path.Combine(RuntimeDirectory(result), "pods"),
                Nodes = [.. (result.GetValue(Nodes) ?? []).Select(n => ParseNode(n)!)],
                ImageCommands = images,
            };
        }

        /// <summary>The same options as command-line arguments, for the background process.</summary>
        public IEnumerable<string> Arguments(ParseResult result)
        {
            yield return "--port";
            yield return result.GetValue(Port).ToString(CultureInfo.InvariantCulture);
            yield return "--http-port";
            yield return result.GetValue(HttpPort).ToString(CultureInfo.InvariantCulture);
            if (result.GetValue(StateDir) is { } state)
            {
                yield return "--state-dir";
                yield return state.FullName;
            }

            yield return "--runtime-dir";
            yield return RuntimeDirectory(result);
            foreach (var node in result.GetValue(Nodes) ?? [])
            {
                yield return "--node";
                yield return node;
            }

            foreach (var image in result.GetValue(Images) ?? [])
            {
                yield return "--image";
                yield return image;
            }
        }
    }

    private static Command CreateUp()
    {
        var options = new ClusterOptions();
        var command = new Command("up", "Start the development cluster in the background (API server, controllers, scheduler, pod runner), write a kubeconfig and print how to use it.");
        options.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var runtime = options.RuntimeDirectory(parseResult);
            Directory.CreateDirectory(runtime);
            if (RunningPid(runtime) is { } pid)
            {
                throw new CommandException($"a dev cluster is already running (pid {pid}, files in {runtime}); stop it with: dsop dev-cluster down");
            }

            var log = Path.Combine(runtime, LogFile);
            var kubeconfig = Path.Combine(runtime, "kubeconfig");
            File.Delete(kubeconfig);
            var (file, prefix) = SelfCommand();
            var start = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true };
            start.ArgumentList.Add("/bin/sh");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add("exec \"$@\" >>\"$DSOP_DEV_CLUSTER_LOG\" 2>&1 </dev/null");
            start.ArgumentList.Add("sh");
            start.ArgumentList.Add(file);
            foreach (var argument in prefix.Concat(["dev-cluster", "run"]).Concat(options.Arguments(parseResult)))
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["DSOP_DEV_CLUSTER_LOG"] = log;
            using var child = Process.Start(start) ?? throw new CommandException("cannot start the dev cluster process");
            child.StandardInput.Close();
            var deadline = Stopwatch.StartNew();
            while (!File.Exists(kubeconfig) || RunningPid(runtime) is null)
            {
                if (child.HasExited || deadline.Elapsed > StartTimeout)
                {
                    var tail = File.Exists(log) ? string.Join(Environment.NewLine, File.ReadLines(log).TakeLast(20)) : "";
                    throw new CommandException($"the dev cluster did not start; the end of {log}:{Environment.NewLine}{tail}");
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }

            await output.WriteLineAsync($"Development cluster started (pid {RunningPid(runtime)}); its log is {log}.").ConfigureAwait(false);
            await output.WriteLineAsync("Use it with:").ConfigureAwait(false);
            await output.WriteLineAsync($"  export KUBECONFIG={kubeconfig}").ConfigureAwait(false);
            await output.WriteLineAsync("  kubectl get nodes").ConfigureAwait(false);
            await output.WriteLineAsync("Stop it with: dsop dev-cluster down" + (parseResult.GetValue(options.RuntimeDir) is { } dir ? $" --runtime-dir {dir.FullName}" : "")).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command CreateDown()
    {
        var runtimeDir = new Option<DirectoryInfo?>("--runtime-dir") { Description = "The runtime directory given to up (default ~/.dsop/dev-cluster)." };
        var command = new Command("down", "Stop the development cluster started by up: pods are terminated with their grace period, then the API server stops.") { runtimeDir };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var runtime = parseResult.GetValue(runtimeDir)?.FullName
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dsop", "dev-cluster");
            if (RunningPid(runtime) is not { } pid)
            {
                await output.WriteLineAsync($"No dev cluster is running (no live pid in {Path.Combine(runtime, PidFile)}).").ConfigureAwait(false);
                return 0;
            }

            using var process = Process.GetProcessById(pid);
            Signal(pid, 15);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StopTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"The dev cluster (pid {pid}) did not stop within {StopTimeout.TotalSeconds:0} s and was killed.").ConfigureAwait(false);
            }

            File.Delete(Path.Combine(runtime, PidFile));
            await output.WriteLineAsync($"Development cluster (pid {pid}) stopped.").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static Command CreateRun()
    {
        var options = new ClusterOptions();
        var command = new Command("run", "Run the development cluster in the foreground until interrupted (what up starts in the background).") { Hidden = true };
        options.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var runtime = options.RuntimeDirectory(parseResult);
            Directory.CreateDirectory(runtime);
            using var loggerFactory = LoggerFactory.Create(logging => logging
                .AddSimpleConsole(console => console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ")
                .AddFilter("Microsoft", LogLevel.Warning)
                .SetMinimumLevel(LogLevel.Information));
            DevCluster.DevCluster cluster;
            try
            {
                cluster = await DevCluster.DevCluster.StartAsync(options.ToOptions(parseResult), loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new CommandException($"cannot start the dev cluster: {ex.Message}", ex);
            }

            var pidPath = Path.Combine(runtime, PidFile);
            await using (cluster.ConfigureAwait(false))
            {
                cluster.Api.WriteKubeconfig(Path.Combine(runtime, "kubeconfig"));
                await File.WriteAllTextAsync(pidPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"Development cluster running: API server {cluster.Api.HttpsUri}, kubeconfig {Path.Combine(runtime, "kubeconfig")}.").ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                await output.WriteLineAsync("Stopping: terminating pods, then the API server.").ConfigureAwait(false);
            }

            if (File.Exists(pidPath) && File.ReadAllText(pidPath).Trim() == Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
            {
                File.Delete(pidPath);
            }

            return 0;
        });
        return command;
    }

    /// <summary>The pid of the running dev cluster recorded in <paramref name="runtime"/>, if that process is alive.</summary>
    private static int? RunningPid(string runtime)
    {
        var path = Path.Combine(runtime, PidFile);
        if (!File.Exists(path) || !int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return null;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : pid;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/> with <c>kill</c>.</summary>
    internal static void Signal(int pid, int signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>
    /// How to start this same dsop again: the apphost beside dsop.dll, or <c>dotnet dsop.dll</c>. Found from this
    /// assembly rather than the process, which is a test host when a test runs a command in-process.
    /// </summary>
    internal static (string File, IReadOnlyList<string> Prefix) SelfCommand()
    {
        var assembly = typeof(DevClusterUp).Assembly.Location;
        var apphost = Path.ChangeExtension(assembly, OperatingSystem.IsWindows() ? ".exe" : null);
        if (File.Exists(apphost))
        {
            return (apphost, []);
        }

        var host = Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
        return (host, [assembly]);
    }

    private static DevNode? ParseNode(string text)
    {
        var parts = text.Split(':');
        if (parts.Length is < 3 or > 4 || parts[0].Length == 0 || parts[1].Length == 0 || parts[2].Length == 0)
        {
            return null;
        }

        var gpus = 0;
        if (parts.Length == 4 && !int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out gpus))
        {
            return null;
        }

        return new DevNode(parts[0], parts[1], parts[2], gpus);
    }
}
