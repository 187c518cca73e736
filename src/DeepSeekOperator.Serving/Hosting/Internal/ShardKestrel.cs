using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace DeepSeekOperator.Serving.Hosting.Internal;

/// <summary>The Kestrel limits of a shard's gRPC port, sized for layer steps of megabytes.</summary>
internal static class ShardKestrel
{
    /// <summary>Widens the HTTP/2 windows and bounds request bodies at <paramref name="maxMessageBytes"/> (plus the gRPC frame header).</summary>
    public static void SizeForSteps(KestrelServerOptions kestrel, int maxMessageBytes)
    {
        // A large step is megabytes: the default HTTP/2 windows (1 MiB, 768 KiB) would stall it on window updates.
        kestrel.Limits.Http2.InitialConnectionWindowSize = 32 << 20;
        kestrel.Limits.Http2.InitialStreamWindowSize = 16 << 20;
        kestrel.Limits.MaxRequestBodySize = maxMessageBytes + 5;
    }
}
