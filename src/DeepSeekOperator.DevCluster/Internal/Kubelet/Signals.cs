using System.Runtime.InteropServices;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>Signals to a container's process group, as a container runtime sends them to the container's init.</summary>
internal static partial class Signals
{
    public const int Kill = 9;
    public const int Terminate = 15;

    /// <summary>Sends <paramref name="signal"/> to every process of group <paramref name="processGroup"/>; false when none is left.</summary>
    public static bool SendToGroup(int processGroup, int signal) => processGroup > 1 && SendSignal(-processGroup, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
