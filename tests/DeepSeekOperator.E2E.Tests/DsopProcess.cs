using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// A <c>dsop</c> process started by a test: its output is kept (and shown when a test fails), and the loopback
/// ports it announces are parsed from the line it prints once serving.
/// </summary>
internal sealed partial class DsopProcess : IAsyncDisposable
{
    /// <summary>This build's dsop.dll, copied beside the tests.</summary>
    public static readonly string DsopDll = Path.Combine(AppContext.BaseDirectory, "dsop.dll");
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DsopProcess(Process process, string servingMarker)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Received(e.Data, servingMarker);
        process.ErrorDataReceived += (_, e) => Received(e.Data, servingMarker);
        process.Exited += (_, _) => _serving.TrySetException(new InvalidOperationException($"dsop exited with {process.ExitCode} before serving:\n{Output}"));
        process.EnableRaisingEvents = true;
    }

    /// <summary>Everything the process wrote, stdout and stderr interleaved.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Whether the process is still running.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>
    /// Starts <c>dsop</c> with <paramref name="arguments"/> and waits (up to <paramref name="patience"/>, 60 s by
    /// default) for the line that contains <paramref name="servingMarker"/>, returning it.
    /// </summary>
    public static async Task<(DsopProcess Process, string Line)> StartAsync(
        IEnumerable<string> arguments, string servingMarker, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? patience = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DsopDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // One intra-op thread per process (libtorch reads OMP_NUM_THREADS): several processes share the machine's cores.
        start.Environment["OMP_NUM_THREADS"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new DsopProcess(Process.Start(start)!, servingMarker);
        process._process.BeginOutputReadLine();
        process._process.BeginErrorReadLine();
        try
        {
            var line = await process._serving.Task.WaitAsync(patience ?? TimeSpan.FromSeconds(60));
            return (process, line);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>The <c>host:port</c> pairs of a serving line, in order (e.g. gRPC then metrics).</summary>
    public static IReadOnlyList<int> Ports(string line) => [.. PortPattern().Matches(line).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Waits for the process to end by itself and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>Sends SIGINT, as Ctrl-C in a terminal does, and returns the exit code once the process has ended (up to <paramref name="patience"/>).</summary>
    public async Task<int> InterruptAsync(TimeSpan patience)
    {
        using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>Kills the process at once, as a crashed pod would end.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Received(string? line, string servingMarker)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.Contains(servingMarker, StringComparison.Ordinal))
        {
            _serving.TrySetResult(line);
        }
    }

    [GeneratedRegex(@"\b(?:\d{1,3}\.){3}\d{1,3}:(\d+)")]
    private static partial Regex PortPattern();
}
