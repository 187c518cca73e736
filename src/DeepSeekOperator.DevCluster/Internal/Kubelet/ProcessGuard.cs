using System.Diagnostics;
using System.Globalization;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// Makes sure no container process outlives the dev cluster, even when the dev cluster is killed with SIGKILL and runs
/// no clean-up: a watchdog shell in its own session reads the process groups to guard from a pipe whose only write end
/// this process holds. When this process ends, however it ends, the kernel closes that end, the watchdog reads end of
/// file and sends SIGKILL to every group still registered. (The kernel's parent-death signal is no substitute: it
/// fires when the forking <em>thread</em> exits, and .NET forks from whichever pool thread starts the process.)
/// </summary>
internal sealed class ProcessGuard : IDisposable
{
    private const string Script = """
        trap '' INT HUP TERM
        declare -A groups
        while read -r op id; do
          if [ "$op" = "+" ]; then groups[$id]=1; else unset "groups[$id]"; fi
        done
        for id in "${!groups[@]}"; do kill -KILL -- "-$id" 2>/dev/null; done
        """;

    private readonly Process watchdog;
    private readonly StreamWriter commands;
    private readonly Lock gate = new();
    private bool disposed;

    private ProcessGuard(Process watchdog)
    {
        this.watchdog = watchdog;
        commands = watchdog.StandardInput;
        commands.AutoFlush = true;
    }

    /// <summary>Starts the watchdog.</summary>
    public static ProcessGuard Start()
    {
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["bash", "-c", Script])
        {
            start.ArgumentList.Add(arg);
        }

        return new ProcessGuard(Process.Start(start) ?? throw new InvalidOperationException("could not start the process watchdog"));
    }

    /// <summary>Guards process group <paramref name="processGroup"/>.</summary>
    public void Add(int processGroup) => Send('+', processGroup);

    /// <summary>Stops guarding a group that has ended.</summary>
    public void Remove(int processGroup) => Send('-', processGroup);

    /// <summary>Closes the pipe: the watchdog kills the groups still registered and exits.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            commands.Dispose();
        }

        watchdog.WaitForExit(TimeSpan.FromSeconds(5));
        watchdog.Dispose();
    }

    private void Send(char operation, int processGroup)
    {
        lock (gate)
        {
            if (disposed)
            {
                return;
            }

            try
            {
                commands.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{operation} {processGroup}"));
            }
            catch (IOException)
            {
                // The watchdog is gone (someone killed it): the runner still stops its processes when it stops.
            }
        }
    }
}
