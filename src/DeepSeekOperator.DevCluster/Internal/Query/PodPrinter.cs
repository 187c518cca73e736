using System.Globalization;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// The pod row of <c>kubectl get pods</c> as kube-apiserver's <c>printPod</c> computes it: Ready containers, the status
/// reason (init progress, a waiting or terminated container's reason, Completed/Running/NotReady, Terminating, Unknown),
/// restarts with the age of the last one, and the wide columns.
/// </summary>
internal static class PodPrinter
{
    /// <summary>Name, Ready, Status, Restarts, Age, then IP, Node, Nominated Node, Readiness Gates at priority 1.</summary>
    public static IReadOnlyList<TableColumnDefinition> Columns { get; } =
    [
        new("Name", "string", "name", ColumnDescriptions.Name, 0),
        new("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0),
        new("Status", "string", "", "The aggregate status of the containers in this pod.", 0),
        new("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
        new("Age", "string", "", ColumnDescriptions.CreationTimestamp, 0),
        new("IP", "string", "", ColumnDescriptions.PodIP, 1),
        new("Node", "string", "", ColumnDescriptions.NodeName, 1),
        new("Nominated Node", "string", "", ColumnDescriptions.NominatedNodeName, 1),
        new("Readiness Gates", "string", "", ColumnDescriptions.ReadinessGates, 1),
    ];

    /// <summary>The row's conditions: a succeeded or failed pod's row is marked Completed.</summary>
    public static JsonArray? Conditions(JsonObject pod) => JsonFields.String(pod, "status", "phase") switch
    {
        "Succeeded" => [RowCompleted("Succeeded", "The pod has completed successfully.")],
        "Failed" => [RowCompleted("Failed", "The pod failed.")],
        _ => null,
    };

    /// <summary>The cells of one pod.</summary>
    public static JsonArray Cells(JsonObject pod, DateTimeOffset now)
    {
        var restarts = 0L;
        var restartableInitContainerRestarts = 0L;
        var totalContainers = JsonFields.Array(pod, "spec", "containers").Count;
        var readyContainers = 0;
        DateTimeOffset? lastRestartDate = null;
        DateTimeOffset? lastRestartableInitContainerRestartDate = null;

        var phase = JsonFields.String(pod, "status", "phase");
        var statusReason = JsonFields.String(pod, "status", "reason");
        var reason = statusReason.Length > 0 ? statusReason : phase;
        var conditions = JsonFields.Array(pod, "status", "conditions");
        if (conditions.Any(c => JsonFields.String(c, "type") == "PodScheduled" && JsonFields.String(c, "reason") == "SchedulingGated"))
        {
            reason = "SchedulingGated";
        }

        var initContainers = JsonFields.Array(pod, "spec", "initContainers");
        var restartableInitContainers = initContainers
            .Where(c => JsonFields.String(c, "restartPolicy") == "Always")
            .Select(c => JsonFields.String(c, "name"))
            .ToHashSet(StringComparer.Ordinal);
        totalContainers += restartableInitContainers.Count;

        var initializing = false;
        var initStatuses = JsonFields.Array(pod, "status", "initContainerStatuses");
        for (var i = 0; i < initStatuses.Count; i++)
        {
            var container = initStatuses[i];
            var restartCount = JsonFields.Integer(container, "restartCount");
            restarts += restartCount;
            var terminatedAt = JsonFields.Object(container, "lastState", "terminated") is { } lastTerminated
                ? JsonFields.Time(lastTerminated, "finishedAt")
                : null;
            lastRestartDate = Later(lastRestartDate, terminatedAt);
            var restartable = restartableInitContainers.Contains(JsonFields.String(container, "name"));
            if (restartable)
            {
                restartableInitContainerRestarts += restartCount;
                lastRestartableInitContainerRestartDate = Later(lastRestartableInitContainerRestartDate, terminatedAt);
            }

            var terminated = JsonFields.Object(container, "state", "terminated");
            var waitingReason = JsonFields.String(container, "state", "waiting", "reason");
            if (terminated is not null && JsonFields.Integer(terminated, "exitCode") == 0)
            {
                continue;
            }

            if (restartable && JsonFields.OptionalBoolean(container, "started") == true)
            {
                if (JsonFields.OptionalBoolean(container, "ready") == true)
                {
                    readyContainers++;
                }

                continue;
            }

            if (terminated is not null)
            {
                var terminatedReason = JsonFields.String(terminated, "reason");
                reason = terminatedReason.Length > 0
                    ? "Init:" + terminatedReason
                    : JsonFields.Integer(terminated, "signal") is var signal and not 0
                        ? Invariant($"Init:Signal:{signal}")
                        : Invariant($"Init:ExitCode:{JsonFields.Integer(terminated, "exitCode")}");
            }
            else if (waitingReason.Length > 0 && waitingReason != "PodInitializing")
            {
                reason = "Init:" + waitingReason;
            }
            else
            {
                reason = Invariant($"Init:{i}/{initContainers.Count}");
            }

            initializing = true;
            break;
        }

        if (!initializing || IsInitializedConditionTrue(conditions))
        {
            restarts = restartableInitContainerRestarts;
            lastRestartDate = lastRestartableInitContainerRestartDate;
            var hasRunning = false;
            var statuses = JsonFields.Array(pod, "status", "containerStatuses");
            for (var i = statuses.Count - 1; i >= 0; i--)
            {
                var container = statuses[i];
                restarts += JsonFields.Integer(container, "restartCount");
                if (JsonFields.Object(container, "lastState", "terminated") is { } lastTerminated)
                {
                    lastRestartDate = Later(lastRestartDate, JsonFields.Time(lastTerminated, "finishedAt"));
                }

                var waitingReason = JsonFields.String(container, "state", "waiting", "reason");
                var terminated = JsonFields.Object(container, "state", "terminated");
                if (waitingReason.Length > 0)
                {
                    reason = waitingReason;
                }
                else if (terminated is not null && JsonFields.String(terminated, "reason") is { Length: > 0 } terminatedReason)
                {
                    reason = terminatedReason;
                }
                else if (terminated is not null)
                {
                    reason = JsonFields.Integer(terminated, "signal") is var signal and not 0
                        ? Invariant($"Signal:{signal}")
                        : Invariant($"ExitCode:{JsonFields.Integer(terminated, "exitCode")}");
                }
                else if (JsonFields.OptionalBoolean(container, "ready") == true && JsonFields.Object(container, "state", "running") is not null)
                {
                    hasRunning = true;
                    readyContainers++;
                }
            }

            if (reason == "Completed" && hasRunning)
            {
                reason = conditions.Any(c => JsonFields.String(c, "type") == "Ready" && JsonFields.String(c, "status") == "True") ? "Running" : "NotReady";
            }
        }

        var deleting = JsonFields.Time(pod, "metadata", "deletionTimestamp") is not null;
        if (deleting && statusReason == "NodeLost")
        {
            reason = "Unknown";
        }
        else if (deleting && phase is not ("Failed" or "Succeeded"))
        {
            reason = "Terminating";
        }

        var restartsText = restarts.ToString(CultureInfo.InvariantCulture);
        if (restarts != 0 && lastRestartDate is { } last)
        {
            restartsText = Invariant($"{restarts} ({HumanDuration.Since(last, now)} ago)");
        }

        var podIPs = JsonFields.Array(pod, "status", "podIPs");
        var podIP = podIPs.Count > 0 ? JsonFields.String(podIPs[0], "ip") : JsonFields.String(pod, "status", "podIP");
        var readinessGates = JsonFields.Array(pod, "spec", "readinessGates");
        var gates = "<none>";
        if (readinessGates.Count > 0)
        {
            var trueConditions = readinessGates.Count(gate =>
                conditions.FirstOrDefault(c => JsonFields.String(c, "type") == JsonFields.String(gate, "conditionType")) is { } condition
                && JsonFields.String(condition, "status") == "True");
            gates = Invariant($"{trueConditions}/{readinessGates.Count}");
        }

        return
        [
            JsonFields.String(pod, "metadata", "name"),
            Invariant($"{readyContainers}/{totalContainers}"),
            reason,
            restartsText,
            HumanDuration.Since(JsonFields.Time(pod, "metadata", "creationTimestamp"), now),
            OrNone(podIP),
            OrNone(JsonFields.String(pod, "spec", "nodeName")),
            OrNone(JsonFields.String(pod, "status", "nominatedNodeName")),
            gates,
        ];
    }

    private static bool IsInitializedConditionTrue(IReadOnlyList<JsonNode?> conditions) =>
        conditions.FirstOrDefault(c => JsonFields.String(c, "type") == "Initialized") is { } condition && JsonFields.String(condition, "status") == "True";

    private static DateTimeOffset? Later(DateTimeOffset? current, DateTimeOffset? candidate) =>
        candidate is { } c && (current is null || current < c) ? c : current;

    private static string OrNone(string value) => value.Length == 0 ? "<none>" : value;

    private static JsonObject RowCompleted(string reason, string message) => new()
    {
        ["type"] = "Completed",
        ["status"] = "True",
        ["reason"] = reason,
        ["message"] = message,
    };

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
