using System.Globalization;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// Hands each pod its own loopback address, from the first one given upwards (127.0.0.2, …, 127.0.0.254, 127.0.1.1 and
/// on, skipping .0 and .255, up to 127.95.255.254), unique among live pods; the whole of 127.0.0.0/8 reaches the
/// loopback interface on Linux, so a pod's process can listen on its address without any network set-up. Pods stop
/// below 127.96.0.0/16, the service range, so that a pod IP never meets a Service's cluster IP.
/// </summary>
internal sealed class PodIpAllocator
{
    private const int Last = (96 << 16) - 2;
    private readonly Lock gate = new();
    private readonly HashSet<int> used = [];
    private readonly int first;
    private int next;

    public PodIpAllocator(string first = "127.0.0.2")
    {
        this.first = Parse(first, 1) ?? throw new ArgumentException($"{first} is not a loopback address a pod can have", nameof(first));
        next = this.first;
    }

    /// <summary>Takes <paramref name="preferred"/> when it is a free pod address (a pod keeps its IP across restarts), else the next free one.</summary>
    public string Allocate(string? preferred)
    {
        lock (gate)
        {
            if (Parse(preferred, first) is { } wanted && used.Add(wanted))
            {
                return Format(wanted);
            }

            for (var tried = 0; tried < Last; tried++)
            {
                var candidate = next;
                next = next >= Last ? first : next + 1;
                if ((candidate & 0xff) is 0 or 0xff || !used.Add(candidate))
                {
                    continue;
                }

                return Format(candidate);
            }

            throw new InvalidOperationException("no loopback address is free for another pod");
        }
    }

    /// <summary>Returns <paramref name="address"/> to the pool.</summary>
    public void Release(string address)
    {
        lock (gate)
        {
            if (Parse(address, first) is { } offset)
            {
                used.Remove(offset);
            }
        }
    }

    private static string Format(int offset) => string.Create(CultureInfo.InvariantCulture, $"127.{offset >> 16}.{(offset >> 8) & 0xff}.{offset & 0xff}");

    private static int? Parse(string? address, int lowest)
    {
        var parts = address?.Split('.');
        if (parts is not { Length: 4 } || parts[0] != "127")
        {
            return null;
        }

        var offset = 0;
        foreach (var part in parts[1..])
        {
            if (!byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            offset = (offset << 8) | value;
        }

        return offset >= lowest && offset <= Last && (offset & 0xff) is not (0 or 0xff) ? offset : null;
    }
}
