namespace DeepSeekOperator.DevCluster;

/// <summary>A virtual node of the development cluster: what the scheduler can place on it.</summary>
/// <param name="Name">The node's name.</param>
/// <param name="Cpu">Allocatable CPU, as a Kubernetes quantity (<c>8</c>, <c>3500m</c>).</param>
/// <param name="Memory">Allocatable memory, as a Kubernetes quantity (<c>16Gi</c>).</param>
/// <param name="Gpus">Allocatable <c>nvidia.com/gpu</c>.</param>
/// <param name="Pods">How many pods the node takes (the kubelet's <c>maxPods</c>).</param>
public sealed record DevNode(string Name, string Cpu, string Memory, int Gpus = 0, int Pods = 110);

/// <summary>How to run the whole development cluster: the API server, the controllers, the scheduler and the pod runner.</summary>
public sealed record DevClusterOptions
{
    /// <summary>The API server's settings (ports, state directory, watch window).</summary>
    public ApiServerOptions Api { get; init; } = new();

    /// <summary>Where pods' volumes, logs and PVC directories live; a temporary directory when null.</summary>
    public string? RuntimeDirectory { get; init; }

    /// <summary>The virtual nodes; one node sized like this machine when empty.</summary>
    public IReadOnlyList<DevNode> Nodes { get; init; } = [];

    /// <summary>
    /// Images that run as local processes: an image (or repository prefix) mapped to the command (program and leading
    /// arguments) that plays its entrypoint. Every other image runs simulated (Running and Ready, no process).
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ImageCommands { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
}
