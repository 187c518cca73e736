// MSBuild inline task: marks one version requirement of an ELF64 little-endian shared object weak.
// Compiled by RoslynCodeTaskFactory from build/TorchSharpNative.targets.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class MarkElfVersionNeedWeak : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    private static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
        "/lib64/libstdc++.so.6",
    };

    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    [Required]
    public string VersionName { get; set; } = string.Empty;

    public override bool Execute()
    {
        if (SystemLibStdCxxDefines(VersionName))
        {
            Log.LogMessage(MessageImportance.Low, "The system libstdc++ defines {0}; nothing to patch.", VersionName);
            return true;
        }

        foreach (var item in Files)
        {
            var path = item.GetMetadata("FullPath");
            try
            {
                switch (Patch(path, VersionName))
                {
                    case Outcome.Patched:
                        Log.LogMessage(MessageImportance.Normal, "Marked {0} weak in {1}.", VersionName, path);
                        break;
                    case Outcome.AlreadyWeak:
                        Log.LogMessage(MessageImportance.Low, "{0} is already weak in {1}.", VersionName, path);
                        break;
                    case Outcome.NotReferenced:
                        Log.LogMessage(MessageImportance.Low, "{0} does not require {1}.", path, VersionName);
                        break;
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Log.LogError("Cannot mark {0} weak in {1}: {2}", VersionName, path, ex.Message);
            }
        }

        return !Log.HasLoggedErrors;
    }

    private enum Outcome { Patched, AlreadyWeak, NotReferenced }

    private static bool SystemLibStdCxxDefines(string version)
    {
        var needle = Encoding.ASCII.GetBytes(version + "\0");
        foreach (var candidate in LibStdCxxCandidates)
        {
            if (File.Exists(candidate))
            {
                return IndexOf(File.ReadAllBytes(candidate), needle) >= 0;
            }
        }

        return false;
    }

    private static Outcome Patch(string path, string version)
    {
        var elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        }

        var sectionHeaders = checked((int)U64(elf, 0x28));
        int entrySize = U16(elf, 0x3A);
        int count = U16(elf, 0x3C);
        if (entrySize < 64 || sectionHeaders <= 0 || (long)sectionHeaders + (long)entrySize * count > elf.Length)
        {
            throw new InvalidDataException("section header table out of bounds");
        }

        for (var i = 0; i < count; i++)
        {
            var header = sectionHeaders + i * entrySize;
            if (U32(elf, header + 4) != ShtGnuVerneed)
            {
                continue;
            }

            var offset = checked((int)U64(elf, header + 24));
            var size = checked((int)U64(elf, header + 32));
            var link = (int)U32(elf, header + 40);
            var needCount = (int)U32(elf, header + 44);
            if (link >= count || (long)offset + size > elf.Length)
            {
                throw new InvalidDataException(".gnu.version_r out of bounds");
            }

            var strings = checked((int)U64(elf, sectionHeaders + link * entrySize + 24));
            var need = offset;
            for (var n = 0; n < needCount; n++)
            {
                int auxCount = U16(elf, need + 2);
                var aux = need + (int)U32(elf, need + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    if (aux < offset || aux + 16 > offset + size)
                    {
                        throw new InvalidDataException("Vernaux entry out of bounds");
                    }

                    if (CString(elf, strings + (int)U32(elf, aux + 8)) == version)
                    {
                        var flags = U16(elf, aux + 4);
                        if ((flags & VerFlgWeak) != 0)
                        {
                            return Outcome.AlreadyWeak;
                        }

                        flags |= VerFlgWeak;
                        elf[aux + 4] = (byte)(flags & 0xff);
                        elf[aux + 5] = (byte)(flags >> 8);
                        WriteReplacing(path, elf);
                        return Outcome.Patched;
                    }

                    aux += (int)U32(elf, aux + 12);
                }

                need += (int)U32(elf, need + 12);
            }
        }

        return Outcome.NotReferenced;
    }

    // Write beside the file and rename over it, so that a hard link into the NuGet cache is never modified.
    private static void WriteReplacing(string path, byte[] bytes)
    {
        var temporary = path + ".weak-" + Guid.NewGuid().ToString("N");
        File.WriteAllBytes(temporary, bytes);
        File.SetLastWriteTimeUtc(temporary, File.GetLastWriteTimeUtc(path));
        File.Delete(path);
        File.Move(temporary, path);
    }

    private static ushort U16(byte[] b, int o) => (ushort)(b[o] | (b[o + 1] << 8));

    private static uint U32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

    private static ulong U64(byte[] b, int o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);

    private static string CString(byte[] b, int o)
    {
        var end = o;
        while (end < b.Length && b[end] != 0)
        {
            end++;
        }

        return Encoding.ASCII.GetString(b, o, end - o);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i <= haystack.Length - needle.Length; i++)
        {
            var j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j])
            {
                j++;
            }

            if (j == needle.Length)
            {
                return i;
            }
        }

        return -1;
    }
}
