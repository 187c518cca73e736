using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>
/// A <c>dsop operator</c> process that the operator benchmark starts from this same dsop, with its metrics port on
/// loopback. Its output is drained (the last lines are kept for error messages); disposing it stops it with SIGTERM,
/// as Kubernetes stops a pod, and kills it if it has not exited in time.
/// </summary>
internal sealed partial class OperatorProcess : IAsyncDisposable
{
    private const int KeptLines = 30;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private readonly Process process;
    private readonly TimeProvider time;
    private readonly Queue<string> tail = new();
    private readonly TaskCompletionSource<Uri> serving = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpClient http = new();

    private OperatorProcess(Process process, TimeProvider time)
    {
        this.process = process;
        this.time = time;
        process.OutputDataReceived += (_, e) => Received(e.Data);
        process.ErrorDataReceived += (_, e) => Received(e.Data);
        process.Exited += (_, _) => serving.TrySetException(new CommandException($"the operator exited with {process.ExitCode} before serving:{Environment.NewLine}{Tail}"));
        process.EnableRaisingEvents = true;
    }

    /// <summary>The operator's process id.</summary>
    public int Id => process.Id;

    /// <summary>Its <c>/metrics</c> address.</summary>
    public Uri Metrics => new(Endpoint, "/metrics");

    /// <summary>The CPU time the operator has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            return process.TotalProcessorTime;
        }
    }

    private Uri Endpoint => serving.Task.Result;

    private string Tail
    {
        get
        {
            lock (tail)
            {
                return string.Join(Environment.NewLine, tail);
            }
        }
    }

    /// <summary>Starts <c>dsop operator</c> against <paramref name="kubeconfig"/> and waits for it to serve its metrics port.</summary>
    /// <exception cref="CommandException">It exited or did not serve within a minute.</exception>
    public static async Task<OperatorProcess> StartAsync(string kubeconfig, TimeProvider time, CancellationToken cancellationToken)
    {
        var (file, prefix) = DevClusterUp.SelfCommand();
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // As the operator's Deployment runs it (config/manager/manager.yaml, the chart): dynamic PGO off and two malloc
        // arenas, for the operator only.
        start.Environment["DOTNET_TieredPGO"] = "0";
        start.Environment["MALLOC_ARENA_MAX"] = "2";
        foreach (var argument in prefix.Concat(["operator", "--kubeconfig", kubeconfig, "--metrics-port", "0", "--bind", "127.0.0.1"]))
        {
            start.ArgumentList.Add(argument);
        }

        var started = new OperatorProcess(Process.Start(start) ?? throw new CommandException($"cannot start {file}"), time);
        started.process.StandardInput.Close();
        started.process.BeginOutputReadLine();
        started.process.BeginErrorReadLine();
        try
        {
            await started.serving.Task.WaitAsync(StartTimeout, time, cancellationToken).ConfigureAwait(false);
            return started;
        }
        catch (Exception ex)
        {
            await started.DisposeAsync().ConfigureAwait(false);
            throw ex is TimeoutException ? new CommandException($"the operator did not serve within {StartTimeout.TotalSeconds:0} s:{Environment.NewLine}{started.Tail}", ex) : ex;
        }
    }

    /// <summary>Waits until <c>/metrics</c> shows <c>dsop_leader 1</c> and <c>/readyz</c> answers 200 (the caches have synced).</summary>
    /// <exception cref="CommandException">It exited or did not lead within a minute.</exception>
    public async Task WaitForLeadershipAsync(CancellationToken cancellationToken)
    {
        var deadline = time.GetTimestamp();
        while (!await LeadsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (process.HasExited || time.GetElapsedTime(deadline) > StartTimeout)
            {
                throw new CommandException($"the operator did not become a ready leader within {StartTimeout.TotalSeconds:0} s:{Environment.NewLine}{Tail}");
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The sum of <c>dsop_reconcile_total</c> over its results, and <c>dsop_reconcile_errors_total</c>, scraped now.</summary>
    public async Task<(double Reconciles, double Errors)> ReconcilesAsync(CancellationToken cancellationToken)
    {
        var text = await http.GetStringAsync(Metrics, cancellationToken).ConfigureAwait(false);
        var reconciles = 0.0;
        var errors = 0.0;
        foreach (Match sample in Sample().Matches(text))
        {
            var value = double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
            if (sample.Groups["name"].Value == "dsop_reconcile_total")
            {
                reconciles += value;
            }
            else
            {
                errors += value;
            }
        }

        return (reconciles, errors);
    }

    /// <summary>The peak (<c>VmHWM</c>) and current (<c>VmRSS</c>) resident memory, in bytes, from <c>/proc/PID/status</c>.</summary>
    public (double Peak, double Resident) Memory()
    {
        var status = File.ReadAllLines($"/proc/{process.Id}/status");
        double Kilobytes(string field) => double.Parse(
            status.Single(line => line.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture) * 1024;
        return (Kilobytes("VmHWM"), Kilobytes("VmRSS"));
    }

    /// <summary>Stops the operator with SIGTERM and waits for it to exit; kills it after 30 s.</summary>
    public async ValueTask DisposeAsync()
    {
        http.Dispose();
        if (!process.HasExited)
        {
            DevClusterUp.Signal(process.Id, 15);
            using var timeout = new CancellationTokenSource(StopTimeout, time);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        process.Dispose();
    }

    private async Task<bool> LeadsAsync(CancellationToken cancellationToken)
    {
        var metrics = await http.GetStringAsync(Metrics, cancellationToken).ConfigureAwait(false);
        if (!Leader().IsMatch(metrics))
        {
            return false;
        }

        using var ready = await http.GetAsync(new Uri(Endpoint, "/readyz"), cancellationToken).ConfigureAwait(false);
        return ready.IsSuccessStatusCode;
    }

    private void Received(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (tail)
        {
            tail.Enqueue(line);
            if (tail.Count > KeptLines)
            {
                tail.Dequeue();
            }
        }

        if (Serving().Match(line) is { Success: true } match)
        {
            serving.TrySetResult(new Uri($"http://{match.Groups["endpoint"].Value}"));
        }
    }

    // The line dsop operator prints once its port answers.
    [GeneratedRegex(@"^operator \S+: metrics and probes on http://(?<endpoint>[^;/]+);")]
    private static partial Regex Serving();

    [GeneratedRegex(@"^dsop_leader 1$", RegexOptions.Multiline)]
    private static partial Regex Leader();

    [GeneratedRegex(@"^(?<name>dsop_reconcile_total|dsop_reconcile_errors_total)(\{[^}]*\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
