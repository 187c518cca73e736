using System.Diagnostics;
using System.Globalization;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// One run of a container: a local process in its own session and process group (so signals reach everything it
/// started), with stdout and stderr written to its <see cref="ContainerLog"/>; or a simulated run without a process.
/// </summary>
internal sealed class ContainerInstance
{
    private readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Process? process;

    private ContainerInstance(Process? process, string id, DateTimeOffset startedAt, ContainerLog? log)
    {
        this.process = process;
        Pid = process?.Id ?? 0;
        ContainerId = id;
        StartedAt = startedAt;
        Log = log;
    }

    /// <summary>The runtime's id, <c>dsop://&lt;pid&gt;</c> for a process.</summary>
    public string ContainerId { get; }

    /// <summary>The process id, which is also its process group; 0 when simulated.</summary>
    public int Pid { get; }

    public bool Simulated => process is null;

    public DateTimeOffset StartedAt { get; }

    public ContainerLog? Log { get; }

    /// <summary>Completes when the process has exited and its output is in the log.</summary>
    public Task Exited => exited.Task;

    public bool HasExited => exited.Task.IsCompleted;

    public int ExitCode { get; private set; }

    public DateTimeOffset FinishedAt { get; private set; }

    /// <summary>What the process left at its <c>terminationMessagePath</c> (or its log's tail), once it has exited.</summary>
    public string TerminationMessage { get; private set; } = "";

    /// <summary>Why the kubelet stopped it, if it did (a failed liveness or startup probe, the pod's deletion).</summary>
    public string? KillReason { get; set; }

    /// <summary>When SIGKILL follows the SIGTERM already sent, if one was.</summary>
    public DateTimeOffset? KillDeadline { get; set; }

    /// <summary>Starts <paramref name="argv"/> through <c>setsid</c> with exactly <paramref name="environment"/>.</summary>
    public static ContainerInstance Start(
        IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment, string workingDirectory,
        ContainerLog log, TerminationMessage termination, ProcessGuard guard, TimeProvider time, Action onExit)
    {
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add("--");
        foreach (var arg in argv)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {argv[0]}");
        guard.Add(process.Id);
        process.StandardInput.Close();
        var instance = new ContainerInstance(process, string.Create(CultureInfo.InvariantCulture, $"dsop://{process.Id}"), time.GetUtcNow(), log);
        _ = instance.WatchAsync(termination, guard, time, onExit);
        return instance;
    }

    /// <summary>A container that runs without a process, as kwok's do.</summary>
    public static ContainerInstance Simulate(string id, TimeProvider time) => new(null, id, time.GetUtcNow(), null);

    /// <summary>A container that could not start: terminated at once with <paramref name="exitCode"/>.</summary>
    public static ContainerInstance Failed(int exitCode, string reason, TimeProvider time)
    {
        var instance = new ContainerInstance(null, "", time.GetUtcNow(), null) { KillReason = reason };
        instance.Finish(exitCode, time.GetUtcNow());
        return instance;
    }

    /// <summary>Sends <paramref name="signal"/> to the process group; a simulated container just stops.</summary>
    public void Signal(int signal, TimeProvider time)
    {
        if (process is null)
        {
            Finish(signal == Signals.Kill ? 137 : 0, time.GetUtcNow());
            return;
        }

        if (!HasExited)
        {
            Signals.SendToGroup(Pid, signal);
        }
    }

    private void Finish(int exitCode, DateTimeOffset finishedAt)
    {
        ExitCode = exitCode;
        FinishedAt = finishedAt;
        exited.TrySetResult();
    }

    private async Task WatchAsync(TerminationMessage termination, ProcessGuard guard, TimeProvider time, Action onExit)
    {
        var process = this.process!;
        var stdout = PumpAsync(process.StandardOutput, "stdout");
        var stderr = PumpAsync(process.StandardError, "stderr");
        await process.WaitForExitAsync();
        var finishedAt = time.GetUtcNow();

        // The container's init has exited: nothing else of the container may live on, as in a PID namespace.
        Signals.SendToGroup(Pid, Signals.Kill);
        guard.Remove(Pid);
        await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(2), time));
        Log!.Close();
        TerminationMessage = await termination.ReadAsync(process.ExitCode, Log);
        Finish(process.ExitCode, finishedAt);
        process.Dispose();
        onExit();
    }

    private async Task PumpAsync(StreamReader reader, string stream)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                Log!.Append(stream, line);
            }
        }
        catch (IOException)
        {
            // The pipe broke with the process; what was read is in the log.
        }
    }
}
