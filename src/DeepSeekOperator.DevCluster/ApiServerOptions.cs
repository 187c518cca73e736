namespace DeepSeekOperator.DevCluster;

/// <summary>How to run the Kubernetes API emulator.</summary>
public sealed record ApiServerOptions
{
    /// <summary>The HTTPS port on 127.0.0.1; 0 picks a free one.</summary>
    public int HttpsPort { get; init; }

    /// <summary>The plain-HTTP port on 127.0.0.1 (unauthenticated, loopback only); 0 picks a free one, null serves none.</summary>
    public int? HttpPort { get; init; } = 0;

    /// <summary>A directory that keeps objects and the server's certificates across restarts; null keeps everything in memory.</summary>
    public string? StateDirectory { get; init; }

    /// <summary>How many recent changes watches can resume from; older resourceVersions get 410 Gone.</summary>
    public int WatchWindow { get; init; } = 100_000;

    /// <summary>How often a quiet watch that allows bookmarks receives one.</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock of timestamps and grace periods.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
