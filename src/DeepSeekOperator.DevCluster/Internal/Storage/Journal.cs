using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Storage;

/// <summary>
/// Persists the store in a directory: <c>snapshot.json</c>, replaced atomically (write, fsync, rename), and
/// <c>journal.log</c>, an append-only log of the writes since that snapshot. Each journal record carries its
/// length and a CRC-32, so a record torn by a crash is recognised and dropped on load; every record before it,
/// each one a write that was acknowledged, is kept.
/// </summary>
internal sealed class Journal : IDisposable
{
    private const string SnapshotFile = "snapshot.json";
    private const string LogFile = "journal.log";
    private readonly string directory;
    private FileStream? log;

    public Journal(string directory)
    {
        this.directory = directory;
        Directory.CreateDirectory(directory);
    }

    /// <summary>Records written since the last checkpoint.</summary>
    public long RecordsSinceCheckpoint { get; private set; }

    /// <summary>
    /// Reads the snapshot and replays the journal; returns every stored object with its resource key and the
    /// revision of the last write. Cuts a torn tail off the journal.
    /// </summary>
    public IEnumerable<(string StorageKey, JsonObject Value)> Load(out long revision)
    {
        var objects = new Dictionary<(string Key, string Ns, string Name), JsonObject>();
        revision = 0;
        var snapshotPath = Path.Combine(directory, SnapshotFile);
        if (File.Exists(snapshotPath))
        {
            var snapshot = JsonNode.Parse(File.ReadAllBytes(snapshotPath)) as JsonObject
                ?? throw new InvalidDataException($"{snapshotPath}: not a JSON object");
            revision = snapshot["revision"]!.GetValue<long>();
            foreach (var entry in snapshot["objects"]!.AsArray())
            {
                var value = entry!["object"]!.AsObject();
                objects[(entry["key"]!.GetValue<string>(), NamespaceOf(value), NameOf(value))] = (JsonObject)value.DeepClone();
            }
        }

        var logPath = Path.Combine(directory, LogFile);
        long good = 0;
        if (File.Exists(logPath))
        {
            var bytes = File.ReadAllBytes(logPath);
            var offset = 0;
            while (TryRead(bytes, ref offset, out var record))
            {
                good = offset;
                var rev = record["rev"]!.GetValue<long>();
                if (rev <= revision)
                {
                    continue;
                }

                revision = rev;
                var id = (record["key"]!.GetValue<string>(), record["ns"]!.GetValue<string>(), record["name"]!.GetValue<string>());
                if (record["object"] is JsonObject value)
                {
                    objects[id] = (JsonObject)value.DeepClone();
                }
                else
                {
                    objects.Remove(id);
                }
            }
        }

        log = new FileStream(logPath, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 1 << 16);
        log.SetLength(good);
        log.Position = good;
        return [.. objects.Select(o => (o.Key.Key, o.Value))];
    }

    /// <summary>Appends one write (a null <paramref name="value"/> is a deletion) and hands it to the operating system.</summary>
    public void Append(string storageKey, JsonObject? value, string ns, string name, long revision)
    {
        var log = this.log ?? throw new InvalidOperationException("Load the journal before writing to it.");
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        buffer.GetSpan(8);
        buffer.Advance(8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("key", storageKey);
            writer.WriteString("ns", ns);
            writer.WriteString("name", name);
            writer.WriteNumber("rev", revision);
            if (value is not null)
            {
                writer.WritePropertyName("object");
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        var record = buffer.WrittenMemory.ToArray();
        var payload = record.AsSpan(8);
        BinaryPrimitives.WriteInt32LittleEndian(record, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Crc32.Compute(payload));
        log.Write(record);
        log.Flush();
        RecordsSinceCheckpoint++;
    }

    /// <summary>Writes a snapshot of <paramref name="objects"/> at <paramref name="revision"/>, then empties the journal.</summary>
    public void Checkpoint(long revision, IEnumerable<(string StorageKey, JsonObject Value)> objects)
    {
        var temporary = Path.Combine(directory, SnapshotFile + ".tmp");
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            using (var writer = new Utf8JsonWriter(file))
            {
                writer.WriteStartObject();
                writer.WriteNumber("revision", revision);
                writer.WriteStartArray("objects");
                foreach (var (key, value) in objects)
                {
                    writer.WriteStartObject();
                    writer.WriteString("key", key);
                    writer.WritePropertyName("object");
                    value.WriteTo(writer);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, Path.Combine(directory, SnapshotFile), overwrite: true);
        SyncDirectory();
        if (log is not null)
        {
            log.SetLength(0);
            log.Position = 0;
            log.Flush(flushToDisk: true);
        }

        RecordsSinceCheckpoint = 0;
    }

    public void Dispose()
    {
        if (log is not null)
        {
            log.Flush(flushToDisk: true);
            log.Dispose();
            log = null;
        }
    }

    private static bool TryRead(byte[] bytes, ref int offset, out JsonObject record)
    {
        record = null!;
        if (bytes.Length - offset < 8)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
        if (length <= 0 || length > bytes.Length - offset - 8)
        {
            return false;
        }

        var payload = bytes.AsSpan(offset + 8, length);
        if (Crc32.Compute(payload) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 4)))
        {
            return false;
        }

        try
        {
            record = JsonNode.Parse(payload) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return false;
        }

        offset += 8 + length;
        return true;
    }

    private static string NamespaceOf(JsonObject value) => value["metadata"]?["namespace"]?.GetValue<string>() ?? "";

    private static string NameOf(JsonObject value) => value["metadata"]?["name"]?.GetValue<string>() ?? "";

    private void SyncDirectory()
    {
        // A rename is durable once the directory itself is flushed; opening a directory for reading works on Linux.
        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (UnauthorizedAccessException)
        {
        }
        catch (IOException)
        {
        }
    }

    /// <summary>CRC-32 (IEEE 802.3), the checksum of each journal record.</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = BuildTable();

        public static uint Compute(ReadOnlySpan<byte> data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }

            return ~crc;
        }

        private static uint[] BuildTable()
        {
            var table = new uint[256];
            for (var n = 0u; n < 256; n++)
            {
                var c = n;
                for (var k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                }

                table[n] = c;
            }

            return table;
        }
    }
}
