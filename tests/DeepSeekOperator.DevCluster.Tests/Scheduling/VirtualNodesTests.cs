using DeepSeekOperator.DevCluster.Internal.Scheduling;
using DeepSeekOperator.DevCluster.Tests.Conformance;
using k8s;

namespace DeepSeekOperator.DevCluster.Tests.Scheduling;

public sealed class VirtualNodesTests
{
    [Fact]
    public async Task VirtualNode_RegistersReadyWithItsResourcesLabelsTaintsAndLease()
    {
        var spec = SchedulingCluster.Node("gpu-node-1", cpu: "16", memory: "64Gi", gpus: 8) with
        {
            Labels = new Dictionary<string, string> { ["node.kubernetes.io/instance-type"] = "p5.48xlarge" },
            Taints = [new NodeTaint("nvidia.com/gpu", "present", "NoSchedule")],
        };
        await using var cluster = await SchedulingCluster.StartAsync(spec);

        var node = await Eventually.ReadAsync(
            () => cluster.Client.CoreV1.ListNodeAsync(),
            nodes => nodes.Items.Count == 1 && nodes.Items[0].Status?.NodeInfo is not null,
            "node registration");

        var registered = node.Items[0];
        Assert.Equal("gpu-node-1", registered.Metadata.Labels["kubernetes.io/hostname"]);
        Assert.Equal("linux", registered.Metadata.Labels["kubernetes.io/os"]);
        Assert.Equal("p5.48xlarge", registered.Metadata.Labels["node.kubernetes.io/instance-type"]);
        var taint = Assert.Single(registered.Spec.Taints);
        Assert.Equal(("nvidia.com/gpu", "present", "NoSchedule"), (taint.Key, taint.Value, taint.Effect));
        Assert.Equal("16", registered.Status.Allocatable["cpu"].ToString());
        Assert.Equal("64Gi", registered.Status.Allocatable["memory"].ToString());
        Assert.Equal("110", registered.Status.Allocatable["pods"].ToString());
        Assert.Equal("8", registered.Status.Capacity["nvidia.com/gpu"].ToString());
        var ready = Assert.Single(registered.Status.Conditions, c => c.Type == "Ready");
        Assert.Equal(("True", "KubeletReady", "kubelet is posting ready status"), (ready.Status, ready.Reason, ready.Message));
        Assert.Equal(["InternalIP=127.0.0.1", "Hostname=gpu-node-1"], registered.Status.Addresses.Select(a => $"{a.Type}={a.Address}"));
        Assert.Equal("v1.32.0", registered.Status.NodeInfo.KubeletVersion);
        Assert.Equal("linux", registered.Status.NodeInfo.OperatingSystem);

        var lease = await cluster.Client.CoordinationV1.ReadNamespacedLeaseAsync("gpu-node-1", "kube-node-lease");
        Assert.Equal("gpu-node-1", lease.Spec.HolderIdentity);
        Assert.Equal(40, lease.Spec.LeaseDurationSeconds);
        Assert.InRange(lease.Spec.RenewTime!.Value, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(registered.Metadata.Uid, Assert.Single(lease.Metadata.OwnerReferences).Uid);
    }

    [Fact]
    public void DefaultNode_HasTheMachinesCpusAndNoGpus()
    {
        var node = NodeSpec.Default();

        Assert.Equal("dev-node-1", node.Name);
        Assert.Equal(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture), node.Cpu);
        Assert.Equal(110, node.Pods);
        Assert.Equal(0, node.Gpus);
    }
}
