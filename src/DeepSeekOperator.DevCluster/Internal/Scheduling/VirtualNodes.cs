using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Scheduling;

/// <summary>
/// The kubelets of the dev cluster's virtual nodes, as far as the control plane sees them: each node registers
/// (labels <c>kubernetes.io/hostname</c>, <c>kubernetes.io/os</c>, <c>kubernetes.io/arch</c> and its own, its taints),
/// reports its status (capacity and allocatable, the pressure conditions and <c>Ready</c> with reason
/// <c>KubeletReady</c>, addresses, node info with kubelet v1.32.0), renews its Lease in <c>kube-node-lease</c> every
/// 10 seconds and reports its status again every 5 minutes, as a kubelet does by default. A node that already exists
/// (a restart from a state directory) keeps labels and taints added to it; its declared ones are put back.
/// </summary>
internal sealed partial class VirtualNodes(ObjectService objects, IReadOnlyList<NodeSpec> nodes, ILoggerFactory loggerFactory)
{
    /// <summary>The namespace of node leases.</summary>
    public const string LeaseNamespace = "kube-node-lease";

    private const string FieldManager = "kubelet";
    private const long LeaseDurationSeconds = 40;
    private static readonly TimeSpan RenewInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StatusInterval = TimeSpan.FromMinutes(5);
    private static readonly string BootId = Guid.NewGuid().ToString();
    private readonly ILogger logger = loggerFactory.CreateLogger("DeepSeekOperator.DevCluster.VirtualNodes");
    private readonly WriteOptions writes = new(FieldManager: FieldManager);

    private TimeProvider Time => objects.Time;

    /// <summary>Registers the nodes, then keeps their leases and status fresh until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        foreach (var node in nodes)
        {
            Register(node);
            ReportStatus(node);
            RenewLease(node);
        }

        var lastStatus = Time.GetUtcNow();
        using var timer = new PeriodicTimer(RenewInterval, Time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var reportStatus = Time.GetUtcNow() - lastStatus >= StatusInterval;
                if (reportStatus)
                {
                    lastStatus = Time.GetUtcNow();
                }

                foreach (var node in nodes)
                {
                    try
                    {
                        if (reportStatus)
                        {
                            ReportStatus(node);
                        }

                        RenewLease(node);
                    }
                    catch (ApiException error)
                    {
                        Log.HeartbeatFailed(logger, node.Name, error);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private ResourceType NodeType => objects.Registry.Find("", "v1", "nodes")!;

    private void Register(NodeSpec node)
    {
        var labels = new JsonObject
        {
            ["beta.kubernetes.io/arch"] = NodeSpec.GoArch,
            ["beta.kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = NodeSpec.GoArch,
            ["kubernetes.io/hostname"] = node.Name,
            ["kubernetes.io/os"] = "linux",
        };
        foreach (var (key, value) in node.Labels)
        {
            labels[key] = value;
        }

        objects.Patch(NodeType, "v1", "", node.Name, current =>
        {
            var obj = current ?? new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Node",
                ["metadata"] = new JsonObject
                {
                    ["name"] = node.Name,
                    ["annotations"] = new JsonObject
                    {
                        ["node.alpha.kubernetes.io/ttl"] = "0",
                        ["volumes.kubernetes.io/controller-managed-attach-detach"] = "true",
                    },
                },
                ["spec"] = new JsonObject(),
            };
            var metadata = Meta.Of(obj);
            var merged = metadata["labels"] as JsonObject ?? [];
            foreach (var (key, value) in labels)
            {
                merged[key] = value?.DeepClone();
            }

            metadata["labels"] = merged;
            var spec = obj["spec"] as JsonObject ?? [];
            var taints = spec["taints"] as JsonArray ?? [];
            foreach (var taint in node.Taints)
            {
                if (!taints.OfType<JsonObject>().Any(t => t["key"]?.ToString() == taint.Key && t["effect"]?.ToString() == taint.Effect))
                {
                    var entry = new JsonObject { ["key"] = taint.Key, ["effect"] = taint.Effect };
                    if (taint.Value.Length > 0)
                    {
                        entry["value"] = taint.Value;
                    }

                    taints.Add(entry);
                }
            }

            if (taints.Count > 0)
            {
                spec["taints"] = taints;
            }

            obj["spec"] = spec;
            return obj;
        }, writes, null, createIfMissing: true);
    }

    private void ReportStatus(NodeSpec node)
    {
        var now = Meta.Timestamp(Time.GetUtcNow());
        var resources = new JsonObject
        {
            ["cpu"] = node.Cpu,
            ["ephemeral-storage"] = node.EphemeralStorage,
            ["hugepages-1Gi"] = "0",
            ["hugepages-2Mi"] = "0",
            ["memory"] = node.Memory,
            ["pods"] = node.Pods.ToString(CultureInfo.InvariantCulture),
        };
        if (node.Gpus > 0)
        {
            resources["nvidia.com/gpu"] = node.Gpus.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (name, quantity) in node.ExtendedResources)
        {
            resources[name] = quantity;
        }

        objects.Patch(NodeType, "v1", "", node.Name, current =>
        {
            var obj = current!;
            var old = (obj["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            JsonObject Condition(string type, string status, string reason, string message) => new()
            {
                ["type"] = type,
                ["status"] = status,
                ["lastHeartbeatTime"] = now,
                ["lastTransitionTime"] = old.FirstOrDefault(c => c["type"]?.ToString() == type && c["status"]?.ToString() == status)?["lastTransitionTime"]?.DeepClone() ?? now,
                ["reason"] = reason,
                ["message"] = message,
            };

            obj["status"] = new JsonObject
            {
                ["capacity"] = resources.DeepClone(),
                ["allocatable"] = resources.DeepClone(),
                ["conditions"] = new JsonArray(
                    Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")),
                ["addresses"] = new JsonArray(
                    new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" },
                    new JsonObject { ["type"] = "Hostname", ["address"] = node.Name }),
                ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = 10250 } },
                ["nodeInfo"] = new JsonObject
                {
                    ["machineID"] = StableId(node.Name, "machine").ToString("N"),
                    ["systemUUID"] = StableId(node.Name, "system").ToString(),
                    ["bootID"] = BootId,
                    ["kernelVersion"] = KernelVersion(),
                    ["osImage"] = RuntimeInformation.OSDescription,
                    ["containerRuntimeVersion"] = "dsop-dev://1.0.0",
                    ["kubeletVersion"] = "v1.32.0",
                    ["operatingSystem"] = "linux",
                    ["architecture"] = NodeSpec.GoArch,
                },
            };
            return obj;
        }, writes, "status", createIfMissing: false);
    }

    private void RenewLease(NodeSpec node)
    {
        var leases = objects.Registry.Find("coordination.k8s.io", "v1", "leases")!;
        var nodeUid = objects.Store.Get(NodeType.StorageKey, "", node.Name)?.Uid;
        var renewTime = Meta.MicroTimestamp(Time.GetUtcNow());
        objects.Patch(leases, "v1", LeaseNamespace, node.Name, current =>
        {
            var lease = current ?? new JsonObject
            {
                ["apiVersion"] = "coordination.k8s.io/v1",
                ["kind"] = "Lease",
                ["metadata"] = new JsonObject { ["name"] = node.Name, ["namespace"] = LeaseNamespace },
            };
            if (nodeUid is not null)
            {
                Meta.Of(lease)["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Node",
                    ["name"] = node.Name,
                    ["uid"] = nodeUid,
                });
            }

            lease["spec"] = new JsonObject
            {
                ["holderIdentity"] = node.Name,
                ["leaseDurationSeconds"] = LeaseDurationSeconds,
                ["renewTime"] = renewTime,
            };
            return lease;
        }, writes, null, createIfMissing: true);
    }

    private static Guid StableId(string name, string purpose) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes(purpose + "/" + name)).AsSpan(0, 16));

    private static string KernelVersion()
    {
        const string Release = "/proc/sys/kernel/osrelease";
        return File.Exists(Release) ? File.ReadAllText(Release).Trim() : Environment.OSVersion.Version.ToString();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat of virtual node {Node} failed")]
        public static partial void HeartbeatFailed(ILogger logger, string node, Exception error);
    }
}
