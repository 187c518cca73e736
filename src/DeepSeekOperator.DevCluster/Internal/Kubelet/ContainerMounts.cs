namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// A container's volume mounts as host directories. A process cannot see a <c>mountPath</c>, so a value naming a path
/// under one (<c>/models/x</c>, or the value of an option such as <c>--model=/models/x</c>) is rewritten to the same path
/// under the volume's host directory. The command, args, env values, working directory and exec probe and hook
/// commands are rewritten this way; the deepest mount wins.
/// </summary>
internal sealed class ContainerMounts
{
    private readonly List<(string MountPath, string HostPath)> mounts;

    public ContainerMounts(IEnumerable<(string MountPath, string HostPath)> mounts) =>
        this.mounts = [.. mounts.Select(m => (m.MountPath.TrimEnd('/'), m.HostPath)).OrderByDescending(m => m.Item1.Length)];

    public IReadOnlyList<(string MountPath, string HostPath)> All => mounts;

    /// <summary>
    /// These mounts and <paramref name="mountPath"/> at <paramref name="hostPath"/> (a file or directory the kubelet
    /// provides: the service-account token, the termination message), unless a mount of the container is already there.
    /// </summary>
    public ContainerMounts With(string mountPath, string hostPath) =>
        mounts.Any(m => m.MountPath == mountPath.TrimEnd('/')) ? this : new ContainerMounts([.. mounts, (mountPath, hostPath)]);

    /// <summary>The value with a leading mount path, or one after the first <c>=</c>, replaced by its host directory.</summary>
    public string Rewrite(string value)
    {
        if (RewritePath(value) is { } rewritten)
        {
            return rewritten;
        }

        var equals = value.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && RewritePath(value[(equals + 1)..]) is { } option ? value[..(equals + 1)] + option : value;
    }

    private string? RewritePath(string value)
    {
        foreach (var (mountPath, hostPath) in mounts)
        {
            if (mountPath.Length == 0)
            {
                continue;
            }

            if (value == mountPath)
            {
                return hostPath;
            }

            if (value.StartsWith(mountPath + "/", StringComparison.Ordinal))
            {
                return hostPath + value[mountPath.Length..];
            }
        }

        return null;
    }
}
