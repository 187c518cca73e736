using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace DeepSeekOperator.Serving.Benchmarks;

/// <summary>
/// The ceiling for anything that crosses loopback on this machine: one TCP connection with default socket
/// buffers, one writer and one reader in this process, 1 MiB writes, nothing parsed.
/// </summary>
internal static class LoopbackThroughput
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>Bytes per second of the best of <paramref name="runs"/> transfers of <paramref name="bytes"/> bytes, after one unmeasured transfer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> or <paramref name="runs"/> is not positive.</exception>
    public static async Task<double> MeasureAsync(long bytes, int runs, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepting = listener.AcceptAsync(cancellationToken);
        await client.ConnectAsync(listener.LocalEndPoint!, cancellationToken).ConfigureAwait(false);
        using var server = await accepting.ConfigureAwait(false);

        var sent = new byte[ChunkBytes];
        Random.Shared.NextBytes(sent);
        var received = new byte[ChunkBytes];
        var best = double.MaxValue;
        for (var run = 0; run <= runs; run++)
        {
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(WriteAsync(client, sent, bytes, cancellationToken), ReadAsync(server, received, bytes, cancellationToken)).ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (run > 0)
            {
                // The first run warms up the connection's buffers and is not counted.
                best = Math.Min(best, seconds);
            }
        }

        return bytes / best;
    }

    private static async Task WriteAsync(Socket socket, byte[] buffer, long bytes, CancellationToken cancellationToken)
    {
        for (var left = bytes; left > 0;)
        {
            var chunk = (int)Math.Min(left, buffer.Length);
            left -= await socket.SendAsync(buffer.AsMemory(0, chunk), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ReadAsync(Socket socket, byte[] buffer, long bytes, CancellationToken cancellationToken)
    {
        for (var left = bytes; left > 0;)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"the connection closed with {left} bytes still to read");
            }

            left -= read;
        }
    }
}
