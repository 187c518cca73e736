using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Scheduling;

/// <summary>
/// The <c>default-scheduler</c>: binds each pending pod that names it (and has no node, no scheduling gates and no
/// deletion timestamp) to the feasible node with the least allocated CPU and memory, through <c>pods/binding</c>,
/// and records <c>Scheduled</c>. When no node fits, the pod keeps <c>PodScheduled=False</c> with reason
/// <c>Unschedulable</c> and kube-scheduler's message, and a <c>FailedScheduling</c> warning (repeats counted on one
/// event). Unschedulable pods are retried when a node is added or changes, when a bound pod goes away or finishes,
/// and otherwise with back-off from 1 s up to 5 minutes. Pods of other schedulers are left alone; pods preempt none.
/// </summary>
internal sealed partial class Scheduler(ObjectService objects, ILoggerFactory loggerFactory)
    : ControllerLoop(objects, loggerFactory, DefaultSchedulerName)
{
    /// <summary>The <c>spec.schedulerName</c> this scheduler serves.</summary>
    public const string DefaultSchedulerName = "default-scheduler";

    private const int EventMessageLimit = 1024;
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMinutes(5);
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> unschedulable = [];
    private readonly NodeUsage usage = new();

    protected override bool Watches(string storageKey) => storageKey is "pods" or "nodes";

    protected override IEnumerable<string> KeysFor(StoreEvent change)
    {
        if (change.StorageKey == "nodes")
        {
            return NodeMayHelp(change) ? Unschedulable() : [];
        }

        var (node, demand) = change.Type == StoreEventType.Deleted ? (null, null) : Counted(change.Object);
        usage.Observe(change.Object.Key, change.Revision, node, demand);

        if (change.Type != StoreEventType.Deleted && NeedsScheduling(change.Object.Value))
        {
            return change.Previous is { } previous && !PodChanged(previous.Value, change.Object.Value) ? [] : [change.Object.Key];
        }

        if (FreesResources(change))
        {
            return Unschedulable();
        }

        // A deleted pod that was waiting is forgotten by its next reconcile.
        return change.Type == StoreEventType.Deleted && IsWaiting(change.Object.Key) ? [change.Object.Key] : [];
    }

    protected override IEnumerable<string> InitialKeys()
    {
        var all = Store.List("pods", null).Items;
        foreach (var pod in all)
        {
            var (node, demand) = Counted(pod);
            usage.Observe(pod.Key, pod.Revision, node, demand);
        }

        return [.. all.Where(p => NeedsScheduling(p.Value)).Select(p => p.Key)];
    }

    /// <summary>The node a pod counts on and what it asks, while it is bound and not finished.</summary>
    private static (string? Node, PodDemand? Demand) Counted(StoredObject pod) =>
        pod.Value["spec"]?["nodeName"]?.ToString() is { Length: > 0 } node && !IsTerminal(pod.Value) ? (node, PodDemand.Of(pod)) : (null, null);

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var (ns, name) = SplitKey(key);
        var pods = Type("", "pods");
        var stored = Store.Get(pods.StorageKey, ns, name);
        if (stored is null || !NeedsScheduling(stored.Value))
        {
            Forget(key);
            return Task.CompletedTask;
        }

        var pod = stored.Value;
        var demand = PodDemand.Of(stored);
        var nodes = Store.List("nodes", null).Items.Select(n => new NodeSlot(n.Value, usage.On(n.Name))).ToDictionary(n => n.Name, StringComparer.Ordinal);

        var rejections = new Dictionary<string, NodeRejection>(StringComparer.Ordinal);
        NodeSlot? best = null;
        long bestScore = -1;
        foreach (var node in nodes.Values.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            if (NodeFit.Filter(pod, demand, node) is { } rejection)
            {
                rejections[node.Name] = rejection;
                continue;
            }

            var score = NodeFit.Score(demand, node);
            if (score > bestScore)
            {
                (best, bestScore) = (node, score);
            }
        }

        if (best is null)
        {
            Reject(key, pod, FailureMessage(pod, nodes.Count, rejections.Values));
            return Task.CompletedTask;
        }

        PodBinding.Bind(Objects, pods, "v1", ns, name, best.Name, stored.Uid, Writes);
        usage.Assume(key, () =>
        {
            if (Store.Get(pods.StorageKey, ns, name) is not { } bound)
            {
                return null;
            }

            var (node, demand) = Counted(bound);
            return (bound.Revision, node, demand);
        });
        Forget(key);
        Log.Scheduled(Logger, key, best.Name);
        RecordEvent(pod, "Normal", "Scheduled", $"Successfully assigned {ns}/{name} to {best.Name}");
        return Task.CompletedTask;
    }

    /// <summary>kube-scheduler's <c>FitError</c> text with its preemption post-filter message.</summary>
    private static string FailureMessage(JsonObject pod, int nodeCount, IEnumerable<NodeRejection> rejections)
    {
        if (nodeCount == 0)
        {
            return "no nodes available to schedule pods";
        }

        var all = rejections.ToList();
        var available = string.Create(CultureInfo.InvariantCulture, $"0/{nodeCount} nodes are available");
        var message = $"{available}: {Histogram(all.SelectMany(r => r.Reasons))}.";
        if (pod["spec"]?["preemptionPolicy"]?.ToString() == "Never")
        {
            return message + " preemption: not eligible due to preemptionPolicy=Never.";
        }

        var preemption = Histogram(all.Select(r => r.PreemptionMightHelp ? "No preemption victims found for incoming pod" : "Preemption is not helpful for scheduling"));
        return $"{message} preemption: {available}: {preemption}.";
    }

    private static string Histogram(IEnumerable<string> reasons) =>
        string.Join(", ", reasons.GroupBy(r => r, StringComparer.Ordinal)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} {g.Key}"))
            .Order(StringComparer.Ordinal));

    private static bool NeedsScheduling(JsonObject pod) =>
        pod["spec"]?["nodeName"]?.ToString() is null or ""
        && (pod["spec"]?["schedulerName"]?.ToString() ?? DefaultSchedulerName) == DefaultSchedulerName
        && pod["spec"]?["schedulingGates"] is not JsonArray { Count: > 0 }
        && !Meta.IsDeleting(pod)
        && !IsTerminal(pod);

    private static bool IsTerminal(JsonObject pod) => pod["status"]?["phase"]?.ToString() is "Succeeded" or "Failed";

    /// <summary>Whether anything but status changed (kube-scheduler's <c>isPodUpdated</c>): a status write does not retry a pod.</summary>
    private static bool PodChanged(JsonObject before, JsonObject after) =>
        !JsonNode.DeepEquals(before["spec"], after["spec"])
        || !JsonNode.DeepEquals(before["metadata"]?["labels"], after["metadata"]?["labels"])
        || !JsonNode.DeepEquals(before["metadata"]?["annotations"], after["metadata"]?["annotations"]);

    /// <summary>Whether a pod change may make room: a bound pod deleted, or finished.</summary>
    private static bool FreesResources(StoreEvent change)
    {
        if (change.Previous is not { } previous || previous.Value["spec"]?["nodeName"]?.ToString() is null or "" || IsTerminal(previous.Value))
        {
            return false;
        }

        return change.Type == StoreEventType.Deleted || IsTerminal(change.Object.Value);
    }

    /// <summary>Whether a node change may let a pod fit: a new node, or different allocatable, labels, taints or unschedulable flag.</summary>
    private static bool NodeMayHelp(StoreEvent change) => change.Type switch
    {
        StoreEventType.Added => true,
        StoreEventType.Modified => !JsonNode.DeepEquals(change.Previous?.Value["spec"], change.Object.Value["spec"])
            || !JsonNode.DeepEquals(change.Previous?.Value["metadata"]?["labels"], change.Object.Value["metadata"]?["labels"])
            || !JsonNode.DeepEquals(change.Previous?.Value["status"]?["allocatable"], change.Object.Value["status"]?["allocatable"]),
        _ => false,
    };

    private static (string Namespace, string Name) SplitKey(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return (key[..slash], key[(slash + 1)..]);
    }

    private List<string> Unschedulable()
    {
        lock (gate)
        {
            return [.. unschedulable.Keys];
        }
    }

    private bool IsWaiting(string key)
    {
        lock (gate)
        {
            return unschedulable.ContainsKey(key);
        }
    }

    private void Forget(string key)
    {
        lock (gate)
        {
            unschedulable.Remove(key);
        }
    }

    /// <summary>Marks the pod unschedulable, tells why, and schedules the next attempt.</summary>
    private void Reject(string key, JsonObject pod, string message)
    {
        int attempts;
        lock (gate)
        {
            attempts = unschedulable.GetValueOrDefault(key) + 1;
            unschedulable[key] = attempts;
        }

        Log.Unschedulable(Logger, key, message);
        RecordFailedScheduling(pod, message.Length < EventMessageLimit ? message : message[..(EventMessageLimit - 4)] + " ...");
        SetUnschedulableCondition(pod, message);
        Enqueue(key, TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, FirstRetry.Ticks << Math.Min(attempts - 1, 20))));
    }

    private void SetUnschedulableCondition(JsonObject pod, string message)
    {
        var pods = Type("", "pods");
        var uid = Meta.Uid(pod);
        Objects.Patch(pods, "v1", Meta.Namespace(pod), Meta.Name(pod), current =>
        {
            var latest = current!;
            if (Meta.Uid(latest) != uid)
            {
                throw ApiException.NotFound(pods, Meta.Name(pod));
            }

            var status = latest["status"] as JsonObject ?? [];
            var conditions = status["conditions"] as JsonArray ?? [];
            var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.ToString() == "PodScheduled");
            var condition = new JsonObject
            {
                ["type"] = "PodScheduled",
                ["status"] = "False",
                ["lastProbeTime"] = null,
                ["lastTransitionTime"] = existing?["status"]?.ToString() == "False"
                    ? existing["lastTransitionTime"]?.DeepClone()
                    : Meta.Timestamp(Time.GetUtcNow()),
                ["reason"] = "Unschedulable",
                ["message"] = message,
            };
            if (existing is null)
            {
                conditions.Add(condition);
            }
            else
            {
                conditions[conditions.IndexOf(existing)] = condition;
            }

            status["conditions"] = conditions;
            latest["status"] = status;
            return latest;
        }, Writes, "status", createIfMissing: false);
    }

    /// <summary>Records <c>FailedScheduling</c>; a repeat of the same message counts on the existing event, as the event correlator does.</summary>
    private void RecordFailedScheduling(JsonObject pod, string message)
    {
        var events = Type("", "events");
        var uid = Meta.Uid(pod);
        var existing = Store.List(events.StorageKey, Meta.Namespace(pod)).Items.FirstOrDefault(e =>
            e.Value["involvedObject"]?["uid"]?.ToString() == uid
            && e.Value["reason"]?.ToString() == "FailedScheduling"
            && e.Value["message"]?.ToString() == message
            && e.Value["source"]?["component"]?.ToString() == Name);
        if (existing is null)
        {
            RecordEvent(pod, "Warning", "FailedScheduling", message);
            return;
        }

        Objects.Patch(events, "v1", existing.Namespace, existing.Name, current =>
        {
            var latest = current!;
            latest["count"] = (Json.Int64(latest["count"]) ?? 1) + 1;
            latest["lastTimestamp"] = Meta.Timestamp(Time.GetUtcNow());
            return latest;
        }, Writes, null, createIfMissing: false);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Pod {Pod} bound to node {Node}")]
        public static partial void Scheduled(ILogger logger, string pod, string node);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Pod {Pod} is unschedulable: {Reason}")]
        public static partial void Unschedulable(ILogger logger, string pod, string reason);
    }
}
