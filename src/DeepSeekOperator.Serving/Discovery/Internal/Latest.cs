using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace DeepSeekOperator.Serving.Discovery.Internal;

/// <summary>The latest value of something that changes, with every reader told of each change (or of the newest, when it falls behind).</summary>
internal sealed class Latest<T>(T initial)
    where T : class
{
    private readonly Lock gate = new();
    private readonly List<Channel<T>> readers = [];
    private T current = initial;

    public T Current
    {
        get
        {
            lock (gate)
            {
                return current;
            }
        }
    }

    /// <summary>Makes <paramref name="value"/> current and tells every reader; returns false (and does nothing) when it equals the current value.</summary>
    public bool Publish(T value)
    {
        lock (gate)
        {
            if (EqualityComparer<T>.Default.Equals(current, value))
            {
                return false;
            }

            current = value;
            foreach (var reader in readers)
            {
                reader.Writer.TryWrite(value);
            }

            return true;
        }
    }

    public async IAsyncEnumerable<T> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (gate)
        {
            channel.Writer.TryWrite(current);
            readers.Add(channel);
        }

        try
        {
            while (true)
            {
                yield return await channel.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            lock (gate)
            {
                readers.Remove(channel);
            }
        }
    }
}
