using System.ComponentModel;
using System.Globalization;
using System.Runtime.InteropServices;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>One file of a projected volume: its bytes and its mode.</summary>
internal sealed record FileProjection(byte[] Data, UnixFileMode Mode);

/// <summary>
/// Writes the files of a configMap, secret, downwardAPI or projected volume as the kubelet's <c>AtomicWriter</c> does,
/// so that a reader never sees half an update: the files go to a fresh timestamped directory, the <c>..data</c>
/// symbolic link is swapped to it with one rename, and each top-level name is a link through <c>..data</c>.
/// </summary>
internal static partial class AtomicWriter
{
    private const string DataLink = "..data";
    private const string NewDataLink = "..data_tmp";

    /// <summary>Makes <paramref name="directory"/> hold exactly <paramref name="payload"/>; false when it already did.</summary>
    public static bool Write(string directory, IReadOnlyDictionary<string, FileProjection> payload)
    {
        Directory.CreateDirectory(directory);
        var dataLink = Path.Combine(directory, DataLink);
        var oldVersion = new FileInfo(dataLink).LinkTarget;
        var changed = oldVersion is null || !Holds(Path.Combine(directory, oldVersion), payload);
        if (changed)
        {
            var version = ".." + DateTime.UtcNow.ToString("yyyy_MM_dd_HH_mm_ss.", CultureInfo.InvariantCulture) + Random.Shared.Next().ToString(CultureInfo.InvariantCulture);
            var versionPath = Path.Combine(directory, version);
            Directory.CreateDirectory(versionPath);
            foreach (var (relative, file) in payload)
            {
                var target = Path.Combine(versionPath, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.WriteAllBytes(target, file.Data);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(target, file.Mode);
                }
            }

            var newLink = Path.Combine(directory, NewDataLink);
            File.Delete(newLink);
            File.CreateSymbolicLink(newLink, version);
            if (Rename(newLink, dataLink) != 0)
            {
                throw new IOException($"could not rename {newLink} to {dataLink}", new Win32Exception(Marshal.GetLastPInvokeError()));
            }
            if (oldVersion is not null && Directory.Exists(Path.Combine(directory, oldVersion)))
            {
                Directory.Delete(Path.Combine(directory, oldVersion), recursive: true);
            }
        }

        var names = payload.Keys.Select(k => k.Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var link = Path.Combine(directory, name);
            if (new FileInfo(link).LinkTarget is null)
            {
                File.CreateSymbolicLink(link, Path.Combine(DataLink, name));
            }
        }

        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (!entry.Name.StartsWith("..", StringComparison.Ordinal) && !names.Contains(entry.Name) && entry.LinkTarget is not null)
            {
                entry.Delete();
            }
        }

        return changed;
    }

    /// <summary>rename(2), which replaces the old link in one step (File.Move refuses a link to a directory).</summary>
    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Rename(string from, string to);

    private static bool Holds(string versionPath, IReadOnlyDictionary<string, FileProjection> payload)
    {
        if (!Directory.Exists(versionPath))
        {
            return false;
        }

        var files = Directory.GetFiles(versionPath, "*", SearchOption.AllDirectories);
        return files.Length == payload.Count && payload.All(p =>
        {
            var path = Path.Combine(versionPath, p.Key);
            return File.Exists(path) && (OperatingSystem.IsWindows() || File.GetUnixFileMode(path) == p.Value.Mode) && File.ReadAllBytes(path).AsSpan().SequenceEqual(p.Value.Data);
        });
    }
}
