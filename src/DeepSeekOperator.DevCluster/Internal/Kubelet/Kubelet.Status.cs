using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>The pod status the kubelet's <c>generateAPIPodStatus</c> and status manager write.</summary>
internal sealed partial class Kubelet
{
    private static readonly string[] KubeletConditions = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"];

    /// <summary>
    /// Writes the pod's status through <c>pods/status</c>; <paramref name="terminal"/> once every container has stopped for
    /// deletion. As the status manager, which ignores a status equal to the one it holds, it writes nothing when the pod
    /// already has that status.
    /// </summary>
    private void WriteStatus(PodRuntime rt, bool terminal)
    {
        if (Store.Get(Pods.StorageKey, rt.Namespace, rt.Name)?.Value is { } stored
            && Meta.Uid(stored) == rt.Uid
            && JsonNode.DeepEquals(BuildStatus(rt, stored, terminal), stored["status"]))
        {
            return;
        }

        try
        {
            Objects.Patch(Pods, "v1", rt.Namespace, rt.Name, current =>
            {
                if (Meta.Uid(current!) != rt.Uid)
                {
                    throw ApiException.Conflict(Pods, rt.Name, "the pod was replaced");
                }

                current!["status"] = BuildStatus(rt, current, terminal);
                return current;
            }, Writes, "status", createIfMissing: false);
        }
        catch (ApiException error) when (error.Code is 404 or 409)
        {
            // The pod is gone or replaced; its next change brings the runner back here.
        }
    }

    private JsonObject BuildStatus(PodRuntime rt, JsonObject pod, bool terminal)
    {
        var now = Time.GetUtcNow();
        var old = pod["status"] as JsonObject ?? [];
        var policy = RestartPolicy(pod);
        var initSpecs = Specs(pod, "initContainers").ToList();
        var specs = Specs(pod, "containers").ToList();

        var initStatuses = new JsonArray();
        var initPending = new List<string>();
        var initFailed = false;
        foreach (var spec in initSpecs)
        {
            var container = rt.Container(Json.String(spec["name"]) ?? "", init: true);
            var done = container.Current is { HasExited: true, ExitCode: 0 };
            if (!done)
            {
                initPending.Add(container.Name);
                initFailed |= container.Current is { HasExited: true } && policy == "Never";
            }

            var blocked = initPending.Count > 0 && initPending[0] != container.Name;
            initStatuses.Add(ContainerStatus(rt, container, spec, blocked ? "PodInitializing" : null, policy, now));
        }

        var statuses = new List<JsonObject>();
        int running = 0, waiting = 0, stopped = 0, succeeded = 0;
        foreach (var spec in specs)
        {
            var container = rt.Container(Json.String(spec["name"]) ?? "", init: false);
            statuses.Add(ContainerStatus(rt, container, spec, initPending.Count > 0 ? "PodInitializing" : null, policy, now));
            switch (container.Current)
            {
                case null:
                    waiting++;
                    break;
                case { HasExited: false }:
                    running++;
                    break;
                default:
                    stopped++;
                    succeeded += container.Current.ExitCode == 0 ? 1 : 0;
                    break;
            }
        }

        // kubelet getPhase.
        string phase;
        if (initFailed)
        {
            phase = "Failed";
        }
        else if (initPending.Count > 0 || waiting > 0)
        {
            phase = terminal ? "Failed" : "Pending";
        }
        else if (running > 0)
        {
            phase = "Running";
        }
        else if (stopped > 0)
        {
            phase = terminal ? (stopped == succeeded ? "Succeeded" : "Failed")
                : policy == "Always" ? "Running"
                : stopped == succeeded ? "Succeeded"
                : policy == "Never" ? "Failed"
                : "Running";
        }
        else
        {
            phase = "Pending";
        }

        var unready = specs.Select(s => Json.String(s["name"]) ?? "").Where(n => !rt.Container(n, init: false).Ready).ToList();
        var conditions = new List<JsonObject>
        {
            Condition("PodReadyToStartContainers", !terminal, null, null),
            initPending.Count == 0
                ? Condition("Initialized", true, null, null)
                : Condition("Initialized", false, "ContainersNotInitialized", $"containers with incomplete status: [{string.Join(' ', initPending)}]"),
        };
        JsonObject containersReady;
        if (phase == "Succeeded")
        {
            containersReady = Condition("ContainersReady", false, "PodCompleted", null);
        }
        else if (unready.Count > 0)
        {
            containersReady = Condition("ContainersReady", false, "ContainersNotReady", $"containers with unready status: [{string.Join(' ', unready)}]");
        }
        else
        {
            containersReady = Condition("ContainersReady", true, null, null);
        }

        var ready = (JsonObject)containersReady.DeepClone();
        ready["type"] = "Ready";
        if (Json.String(containersReady["status"]) == "True" && ReadinessGateProblem(pod, old) is { } gate)
        {
            ready = Condition("Ready", false, "ReadinessGatesNotReady", gate);
        }

        conditions.Add(ready);
        conditions.Add(containersReady);
        var oldConditions = (old["conditions"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        foreach (var condition in conditions)
        {
            var previous = oldConditions.FirstOrDefault(c => Json.String(c["type"]) == Json.String(condition["type"]));
            condition["lastTransitionTime"] = previous is not null && Json.String(previous["status"]) == Json.String(condition["status"])
                ? previous["lastTransitionTime"]?.DeepClone()
                : Meta.Timestamp(now);
        }

        var allConditions = new JsonArray([.. conditions]);
        foreach (var other in oldConditions.Where(c => !KubeletConditions.Contains(Json.String(c["type"]))))
        {
            allConditions.Add(other.DeepClone());
        }

        var status = new JsonObject
        {
            ["phase"] = phase,
            ["conditions"] = allConditions,
        };
        if (old["nominatedNodeName"] is { } nominated)
        {
            status["nominatedNodeName"] = nominated.DeepClone();
        }

        status["hostIP"] = HostIp;
        status["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = HostIp });
        status["podIP"] = rt.Ip;
        status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = rt.Ip });
        status["startTime"] = Meta.Timestamp(rt.StartTime);
        if (initStatuses.Count > 0)
        {
            status["initContainerStatuses"] = initStatuses;
        }

        status["containerStatuses"] = new JsonArray([.. statuses.OrderBy(s => Json.String(s["name"]), StringComparer.Ordinal)]);
        status["qosClass"] = Json.String(old["qosClass"]) ?? QosClass(initSpecs.Concat(specs));
        return status;

        JsonObject Condition(string type, bool value, string? reason, string? message)
        {
            var condition = new JsonObject
            {
                ["type"] = type,
                ["status"] = value ? "True" : "False",
                ["lastProbeTime"] = null,
            };
            if (reason is not null)
            {
                condition["reason"] = reason;
            }

            if (message is not null)
            {
                condition["message"] = message;
            }

            return condition;
        }
    }

    private JsonObject ContainerStatus(PodRuntime rt, ContainerRuntime container, JsonObject spec, string? blockedReason, string policy, DateTimeOffset now)
    {
        var image = Json.String(spec["image"]) ?? "";
        var current = container.Current;
        JsonObject state;
        JsonObject lastState = [];
        if (current is null)
        {
            var waiting = container.Waiting ?? (blockedReason ?? "ContainerCreating", null!);
            state = new JsonObject { ["waiting"] = Waiting(waiting.Reason, waiting.Message) };
            if (container.Previous is { } previous)
            {
                lastState = new JsonObject { ["terminated"] = Terminated(previous) };
            }
        }
        else if (!current.HasExited)
        {
            state = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Meta.Timestamp(current.StartedAt) } };
            if (container.Previous is { } previous)
            {
                lastState = new JsonObject { ["terminated"] = Terminated(previous) };
            }
        }
        else if (!rt.Terminating && !container.Init && WillRestart(policy, current) && InBackOff(container, now))
        {
            var delay = container.BackOff!.Value.Delay;
            state = new JsonObject
            {
                ["waiting"] = Waiting("CrashLoopBackOff", $"back-off {GoDuration(delay)} restarting failed container={container.Name} pod={rt.Name}_{rt.Namespace}({rt.Uid})"),
            };
            lastState = new JsonObject { ["terminated"] = Terminated(current) };
        }
        else
        {
            state = new JsonObject { ["terminated"] = Terminated(current) };
            if (container.Previous is { } previous)
            {
                lastState = new JsonObject { ["terminated"] = Terminated(previous) };
            }
        }

        var status = new JsonObject
        {
            ["name"] = container.Name,
            ["state"] = state,
            ["lastState"] = lastState,
            ["ready"] = container.Ready,
            ["restartCount"] = container.RestartCount,
            ["image"] = image,
            ["imageID"] = current is null ? "" : image,
        };
        if (current is { ContainerId.Length: > 0 })
        {
            status["containerID"] = current.ContainerId;
        }

        status["started"] = container.Started;
        return status;

        static JsonObject Waiting(string reason, string? message)
        {
            var waiting = new JsonObject { ["reason"] = reason };
            if (message is not null)
            {
                waiting["message"] = message;
            }

            return waiting;
        }
    }

    private static JsonObject Terminated(ContainerInstance instance)
    {
        var terminated = new JsonObject
        {
            ["exitCode"] = instance.ExitCode,
            ["reason"] = instance.KillReason == "StartError" ? "StartError" : instance.ExitCode == 0 ? "Completed" : "Error",
            ["startedAt"] = Meta.Timestamp(instance.StartedAt),
            ["finishedAt"] = Meta.Timestamp(instance.FinishedAt),
        };
        if (instance.TerminationMessage.Length > 0)
        {
            terminated["message"] = instance.TerminationMessage;
        }

        if (instance.ContainerId.Length > 0)
        {
            terminated["containerID"] = instance.ContainerId;
        }

        return terminated;
    }

    /// <summary>Why the pod's readiness gates keep it from Ready, as the kubelet words it; null when they do not.</summary>
    private static string? ReadinessGateProblem(JsonObject pod, JsonObject status)
    {
        foreach (var gate in (pod["spec"]?["readinessGates"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var type = Json.String(gate["conditionType"]) ?? "";
            var condition = (status["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => Json.String(c["type"]) == type);
            if (condition is null)
            {
                return $"corresponding condition of pod readiness gate \"{type}\" does not exist.";
            }

            if (Json.String(condition["status"]) != "True")
            {
                return $"the status of pod readiness gate \"{type}\" is not \"True\", but {Json.String(condition["status"])}";
            }
        }

        return null;
    }

    /// <summary>The pod's QoS class as <c>GetPodQOS</c> computes it from CPU and memory requests and limits.</summary>
    private static string QosClass(IEnumerable<JsonObject> containers)
    {
        var any = false;
        var guaranteed = true;
        foreach (var container in containers)
        {
            var requests = container["resources"]?["requests"] as JsonObject ?? [];
            var limits = container["resources"]?["limits"] as JsonObject ?? [];
            foreach (var resource in (string[])["cpu", "memory"])
            {
                var request = Json.String(requests[resource]);
                var limit = Json.String(limits[resource]);
                any |= request is not null || limit is not null;
                guaranteed &= limit is not null && (request is null || request == limit);
            }
        }

        return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
    }

    /// <summary>A duration as Go's <c>time.Duration.String</c> writes it (<c>10s</c>, <c>1m20s</c>, <c>100ms</c>).</summary>
    private static string GoDuration(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return $"{(long)duration.TotalMilliseconds}ms";
        }

        var text = "";
        if (duration.TotalHours >= 1)
        {
            text += $"{(long)duration.TotalHours}h";
        }

        if (duration.TotalMinutes >= 1)
        {
            text += $"{duration.Minutes}m";
        }

        var seconds = duration.Seconds + (duration.Milliseconds / 1000.0);
        return text + $"{seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}s";
    }
}
