using System.Diagnostics;
using System.Text;

namespace DeepSeekOperator.DevCluster.Tests.Kubectl;

/// <summary>What one kubectl run ended with.</summary>
/// <param name="ExitCode">The process's exit code.</param>
/// <param name="Output">Everything it wrote to standard output.</param>
/// <param name="Error">Everything it wrote to standard error.</param>
internal sealed record KubectlResult(int ExitCode, string Output, string Error)
{
    /// <summary>The output lines, without the trailing empty one.</summary>
    public string[] Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>
/// Runs the kubectl binary on the PATH against one kubeconfig, with its own home directory so that its discovery
/// cache never outlives the server it describes. A missing kubectl fails the test: CI has one.
/// </summary>
internal sealed class Kubectl(string kubeconfig, string home)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly Lazy<string> LazyExecutable = new(() =>
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "kubectl"))
            .FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException("kubectl is not on the PATH; these tests need the kubectl binary");
    });

    /// <summary>Runs kubectl to its end, killing it after 30 s.</summary>
    public Task<KubectlResult> RunAsync(params string[] args) => RunAsync(args, null, DefaultTimeout);

    /// <summary>Runs kubectl with <paramref name="input"/> on its standard input (for <c>-f -</c>).</summary>
    public Task<KubectlResult> RunWithInputAsync(string input, params string[] args) => RunAsync(args, input, DefaultTimeout);

    /// <summary>Runs kubectl to its end, killing it and failing after <paramref name="timeout"/>.</summary>
    public async Task<KubectlResult> RunAsync(string[] args, string? input, TimeSpan timeout)
    {
        using var process = Start(args, redirectInput: input is not null);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish within {timeout}");
        }

        return new KubectlResult(process.ExitCode, await output, await error);
    }

    /// <summary>Starts kubectl and lets the test read its output line by line while it runs (watches).</summary>
    public RunningKubectl Start(params string[] args) => new(Start(args, redirectInput: false));

    private Process Start(string[] args, bool redirectInput)
    {
        var start = new ProcessStartInfo(LazyExecutable.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KUBECONFIG"] = kubeconfig;
        start.Environment["HOME"] = home;
        start.Environment.Remove("KUBECACHEDIR");
        start.Environment["NO_COLOR"] = "1";
        return Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
    }
}

/// <summary>A kubectl process still running, whose standard output is read a line at a time.</summary>
internal sealed class RunningKubectl : IDisposable
{
    private readonly Process process;
    private readonly System.Threading.Channels.Channel<string> lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
    private readonly StringBuilder seen = new();
    private readonly Task<string> error;

    public RunningKubectl(Process process)
    {
        this.process = process;
        error = process.StandardError.ReadToEndAsync();
        _ = PumpAsync();
    }

    /// <summary>Everything kubectl has written to standard output so far.</summary>
    public string Output
    {
        get
        {
            lock (seen)
            {
                return seen.ToString();
            }
        }
    }

    /// <summary>Waits for an output line that satisfies <paramref name="match"/>, failing after <paramref name="timeout"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await lines.Reader.ReadAsync(deadline.Token);
                if (match(line))
                {
                    return line;
                }
            }
        }
        catch (Exception failure) when (failure is OperationCanceledException or System.Threading.Channels.ChannelClosedException)
        {
            var stderr = process.HasExited ? await error : "(still running)";
            string stdout;
            lock (seen)
            {
                stdout = seen.ToString();
            }

            throw new TimeoutException($"no matching line within {timeout}; stdout so far:\n{stdout}\nstderr:\n{stderr}");
        }
    }

    /// <summary>Waits for kubectl to exit by itself and returns its exit code, failing after <paramref name="timeout"/>.</summary>
    public async Task<int> ExitCodeAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"kubectl did not exit within {timeout}");
        }

        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }

    private async Task PumpAsync()
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            lock (seen)
            {
                seen.AppendLine(line);
            }

            await lines.Writer.WriteAsync(line);
        }

        lines.Writer.Complete();
    }
}
