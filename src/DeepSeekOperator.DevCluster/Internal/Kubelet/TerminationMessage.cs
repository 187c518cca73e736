using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// A container instance's <c>terminationMessagePath</c>: the kubelet gives each instance a host file of its own, seen by
/// the process at that path (a <see cref="ContainerMounts"/> entry), and when the instance ends its content becomes
/// <c>state.terminated.message</c>, as the kubelet's <c>getTerminationMessage</c> and
/// <c>readLastStringFromContainerLogs</c> make it.
/// </summary>
internal sealed class TerminationMessage
{
    /// <summary>The kubelet's limit on what is read of the file (<c>MaxContainerTerminationMessageLength</c>).</summary>
    public const int MaxFileBytes = 4096;

    /// <summary>How many of the last log lines stand in for an empty file under <c>FallbackToLogsOnError</c>.</summary>
    public const int MaxLogLines = 80;

    /// <summary>The most bytes of those lines the fallback keeps.</summary>
    public const int MaxLogBytes = 2048;

    private const string DefaultPath = "/dev/termination-log";

    private readonly bool fallbackToLogs;

    private TerminationMessage(string mountPath, string hostFile, bool fallbackToLogs)
    {
        MountPath = mountPath;
        HostFile = hostFile;
        this.fallbackToLogs = fallbackToLogs;
    }

    /// <summary>The path the container writes to (<c>/dev/termination-log</c> unless the spec names another).</summary>
    public string MountPath { get; }

    /// <summary>The empty host file created for the instance.</summary>
    public string HostFile { get; }

    /// <summary>Creates the empty file of attempt <paramref name="attempt"/> of the container <paramref name="spec"/> under <paramref name="directory"/>.</summary>
    public static TerminationMessage Create(JsonObject spec, string directory, int attempt)
    {
        var hostFile = Path.Combine(Directory.CreateDirectory(directory).FullName, string.Create(CultureInfo.InvariantCulture, $"termination-log-{attempt}"));
        File.WriteAllText(hostFile, "");
        var mountPath = Json.String(spec["terminationMessagePath"]) is { Length: > 0 } path ? path : DefaultPath;
        return new TerminationMessage(mountPath, hostFile, Json.String(spec["terminationMessagePolicy"]) == "FallbackToLogsOnError");
    }

    /// <summary>
    /// The message of an instance that exited with <paramref name="exitCode"/>: the file's first 4096 bytes, or when it
    /// is empty, the policy is <c>FallbackToLogsOnError</c> and the exit failed, at most 2048 bytes of the last 80 log lines.
    /// </summary>
    public async Task<string> ReadAsync(int exitCode, ContainerLog log)
    {
        var text = ReadFile();
        if (text.Length > 0 || !fallbackToLogs || exitCode == 0)
        {
            return text;
        }

        using var tail = new MemoryStream();
        await log.StreamAsync(new PodLogOptions(Follow: false, Previous: false, MaxLogLines, SinceSeconds: null, Timestamps: false, MaxLogBytes), tail, CancellationToken.None);
        return Encoding.UTF8.GetString(tail.ToArray());
    }

    private string ReadFile()
    {
        try
        {
            using var stream = new FileStream(HostFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[MaxFileBytes];
            var count = stream.ReadAtLeast(buffer, MaxFileBytes, throwOnEndOfStream: false);
            return Encoding.UTF8.GetString(buffer, 0, count);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // The container removed or replaced the file: as the kubelet, no message.
            return "";
        }
    }
}
