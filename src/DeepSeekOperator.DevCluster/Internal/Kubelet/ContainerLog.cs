using System.Globalization;
using System.Text;
using DeepSeekOperator.DevCluster.Internal.Http;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// The log of one container instance, in the CRI format the kubelet reads (<c>&lt;RFC3339Nano&gt; stdout|stderr F
/// &lt;line&gt;</c>, one record per line), kept in a file per instance as <c>/var/log/pods/&lt;ns&gt;_&lt;pod&gt;_&lt;uid&gt;/&lt;container&gt;/&lt;restart&gt;.log</c>.
/// </summary>
internal sealed class ContainerLog(string path, TimeProvider time)
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'";
    private static readonly TimeSpan FollowPoll = TimeSpan.FromMilliseconds(100);
    private readonly Lock gate = new();
    private volatile bool closed;

    public string Path => path;

    /// <summary>Appends one line the process wrote to <paramref name="stream"/> (<c>stdout</c> or <c>stderr</c>).</summary>
    public void Append(string stream, string line)
    {
        var record = $"{FormatTime(time.GetUtcNow())} {stream} F {line}\n";
        lock (gate)
        {
            File.AppendAllText(path, record);
        }
    }

    /// <summary>No more lines will come: the instance has exited and its output is drained.</summary>
    public void Close() => closed = true;

    /// <summary>Writes the log to <paramref name="output"/> as <c>kubectl logs</c> asks for it.</summary>
    public async Task StreamAsync(PodLogOptions options, Stream output, CancellationToken cancellationToken)
    {
        var since = options.SinceSeconds is { } seconds ? time.GetUtcNow().AddSeconds(-seconds) : (DateTimeOffset?)null;
        var remaining = options.LimitBytes ?? long.MaxValue;
        var records = ReadRecords(0, out var offset);
        if (options.TailLines is { } tail)
        {
            records = records.Skip(Math.Max(0, records.Count - (int)Math.Min(tail, int.MaxValue))).ToList();
        }

        while (true)
        {
            foreach (var record in records)
            {
                if (since is { } from && record.Time < from)
                {
                    continue;
                }

                var text = options.Timestamps ? $"{record.TimeText} {record.Line}\n" : $"{record.Line}\n";
                var bytes = Encoding.UTF8.GetBytes(text);
                var count = (int)Math.Min(bytes.Length, remaining);
                await output.WriteAsync(bytes.AsMemory(0, count), cancellationToken);
                remaining -= count;
                if (remaining <= 0)
                {
                    return;
                }
            }

            await output.FlushAsync(cancellationToken);
            if (!options.Follow)
            {
                return;
            }

            var wasClosed = closed;
            records = ReadRecords(offset, out offset);
            if (records.Count == 0)
            {
                if (wasClosed)
                {
                    return;
                }

                await Task.Delay(FollowPoll, time, cancellationToken);
            }
        }
    }

    /// <summary>The time format of CRI log records and of <c>kubectl logs --timestamps</c>: RFC 3339 with nanoseconds.</summary>
    public static string FormatTime(DateTimeOffset moment) =>
        moment.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private List<Record> ReadRecords(long from, out long end)
    {
        var records = new List<Record>();
        end = from;
        if (!File.Exists(path))
        {
            return records;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(from, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - from];
        stream.ReadExactly(buffer);
        var complete = Array.LastIndexOf(buffer, (byte)'\n') + 1;
        end = from + complete;
        foreach (var line in Encoding.UTF8.GetString(buffer, 0, complete).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // <time> <stream> <tag> <content>
            var parts = line.Split(' ', 4);
            if (parts.Length == 4 && DateTimeOffset.TryParseExact(parts[0], TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment))
            {
                records.Add(new Record(moment, parts[0], parts[3]));
            }
        }

        return records;
    }

    private sealed record Record(DateTimeOffset Time, string TimeText, string Line);
}
