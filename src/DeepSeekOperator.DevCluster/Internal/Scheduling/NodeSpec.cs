using System.Runtime.InteropServices;

namespace DeepSeekOperator.DevCluster.Internal.Scheduling;

/// <summary>A taint of a virtual node (<c>key=value:effect</c>, effect <c>NoSchedule</c>, <c>PreferNoSchedule</c> or <c>NoExecute</c>).</summary>
internal sealed record NodeTaint(string Key, string Value, string Effect);

/// <summary>
/// One virtual node of the dev cluster: what its kubelet would report as allocatable, its labels and its taints.
/// Capacity equals allocatable (the dev cluster reserves nothing for system daemons).
/// </summary>
internal sealed record NodeSpec
{
    /// <summary>The Node's name, also its <c>kubernetes.io/hostname</c> label.</summary>
    public required string Name { get; init; }

    /// <summary>Allocatable CPU as a quantity, e.g. <c>16</c> or <c>3500m</c>.</summary>
    public required string Cpu { get; init; }

    /// <summary>Allocatable memory as a quantity, e.g. <c>64Gi</c>.</summary>
    public required string Memory { get; init; }

    /// <summary>How many pods the node takes (the kubelet's <c>maxPods</c>, 110 by default).</summary>
    public int Pods { get; init; } = 110;

    /// <summary>Allocatable <c>nvidia.com/gpu</c>; a node with none does not list the resource, as without the device plugin.</summary>
    public int Gpus { get; init; }

    /// <summary>Allocatable ephemeral storage as a quantity.</summary>
    public string EphemeralStorage { get; init; } = "100Gi";

    /// <summary>Further extended resources (name to quantity), e.g. <c>example.com/fpga</c>.</summary>
    public IReadOnlyDictionary<string, string> ExtendedResources { get; init; } = new Dictionary<string, string>();

    /// <summary>Labels besides the well-known ones the kubelet sets (hostname, os, arch), e.g. <c>node.kubernetes.io/instance-type</c>.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Taints the node registers with.</summary>
    public IReadOnlyList<NodeTaint> Taints { get; init; } = [];

    /// <summary>The default node: <c>dev-node-1</c> with this machine's CPUs and memory, 110 pods and no GPUs.</summary>
    public static NodeSpec Default() => new()
    {
        Name = "dev-node-1",
        Cpu = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The <c>kubernetes.io/arch</c> value of this machine, as Go names it.</summary>
    public static string GoArch => RuntimeInformation.OSArchitecture switch
    {
        Architecture.Arm64 => "arm64",
        Architecture.X86 => "386",
        Architecture.Arm => "arm",
        _ => "amd64",
    };
}
