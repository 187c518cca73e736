using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// The Deployment controller's status (<c>sync.go</c> <c>calculateStatus</c>, <c>progress.go</c>): counts summed over
/// the ReplicaSets, the <c>Available</c> condition against replicas minus maxUnavailable, and the <c>Progressing</c>
/// condition with kube-controller-manager's reasons, messages and time-keeping (<c>lastUpdateTime</c> moves whenever
/// progress is seen, <c>lastTransitionTime</c> only when the status flips), timed out after
/// <c>progressDeadlineSeconds</c> without progress.
/// </summary>
internal sealed partial class DeploymentController
{
    private const string NewReplicaSetReason = "NewReplicaSetCreated";
    private const string FoundNewReplicaSetReason = "FoundNewReplicaSet";
    private const string FailedReplicaSetCreateReason = "ReplicaSetCreateError";
    private const string ReplicaSetUpdatedReason = "ReplicaSetUpdated";
    private const string NewReplicaSetAvailableReason = "NewReplicaSetAvailable";
    private const string TimedOutReason = "ProgressDeadlineExceeded";
    private const string PausedReason = "DeploymentPaused";
    private const string ResumedReason = "DeploymentResumed";

    /// <summary><c>syncDeploymentStatus</c>: write the computed status when it differs.</summary>
    private void SyncDeploymentStatus(List<JsonObject?> all, JsonObject? newRs, JsonObject d)
    {
        var status = CalculateStatus(all, newRs, d);
        if (StatusFields.Same(d["status"], status))
        {
            return;
        }

        d["status"] = status;
        UpdateStatus(d);
    }

    /// <summary><c>syncRolloutStatus</c>: the computed status plus the Progressing condition; requeues to notice a missed deadline.</summary>
    private void SyncRolloutStatus(List<JsonObject?> all, JsonObject? newRs, JsonObject d)
    {
        var status = CalculateStatus(all, newRs, d);
        var deadline = DeploymentStrategy.ProgressDeadlineSeconds(d);
        if (deadline is null)
        {
            StatusFields.RemoveCondition(status, "Progressing");
        }

        var current = StatusFields.Condition(d["status"] as JsonObject, "Progressing");
        var complete = Count(status, "replicas") == Count(status, "updatedReplicas") && Json.String(current?["reason"]) == NewReplicaSetAvailableReason;
        if (deadline is not null && !complete)
        {
            var target = newRs is null ? $"Deployment \"{Meta.Name(d)}\"" : $"ReplicaSet \"{Meta.Name(newRs)}\"";
            if (DeploymentComplete(d, status))
            {
                SetStatusCondition(status, NewCondition("Progressing", "True", NewReplicaSetAvailableReason, $"{target} has successfully progressed."));
            }
            else if (DeploymentProgressing(d, status))
            {
                // Progress moves lastUpdateTime even when the reason stays; lastTransitionTime stays while the status is True.
                var condition = NewCondition("Progressing", "True", ReplicaSetUpdatedReason, $"{target} is progressing.");
                if (current is not null)
                {
                    if (Json.String(current["status"]) == "True")
                    {
                        condition["lastTransitionTime"] = current["lastTransitionTime"]?.DeepClone();
                    }

                    StatusFields.RemoveCondition(status, "Progressing");
                }

                SetStatusCondition(status, condition);
            }
            else if (DeploymentTimedOut(d, status))
            {
                SetStatusCondition(status, NewCondition("Progressing", "False", TimedOutReason, $"{target} has timed out progressing."));
            }
        }

        if (ReplicaFailure(all, newRs) is { } failure)
        {
            SetStatusCondition(status, failure);
        }
        else
        {
            StatusFields.RemoveCondition(status, "ReplicaFailure");
        }

        if (StatusFields.Same(d["status"], status))
        {
            RequeueStuckDeployment(d, status);
            return;
        }

        d["status"] = status;
        UpdateStatus(d);
    }

    /// <summary><c>calculateStatus</c>: the counts of every ReplicaSet and the Available condition.</summary>
    private JsonObject CalculateStatus(List<JsonObject?> all, JsonObject? newRs, JsonObject d)
    {
        var available = StatusCount(all, "availableReplicas");
        var unavailable = Math.Max(0, SpecReplicas(all) - available);
        var status = new JsonObject();
        StatusFields.SetCount(status, "observedGeneration", Generation(d));
        StatusFields.SetCount(status, "replicas", StatusCount(all, "replicas"));
        StatusFields.SetCount(status, "updatedReplicas", StatusCount([newRs], "replicas"));
        StatusFields.SetCount(status, "readyReplicas", StatusCount(all, "readyReplicas"));
        StatusFields.SetCount(status, "availableReplicas", available);
        StatusFields.SetCount(status, "unavailableReplicas", unavailable);
        if (d["status"]?["conditions"] is JsonArray conditions)
        {
            status["conditions"] = conditions.DeepClone();
        }

        if (d["status"]?["collisionCount"] is JsonNode collisions)
        {
            status["collisionCount"] = collisions.DeepClone();
        }

        SetStatusCondition(status, available >= DeploymentStrategy.Replicas(d) - DeploymentStrategy.MaxUnavailable(d)
            ? NewCondition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
            : NewCondition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."));
        return status;
    }

    private static long Count(JsonObject? status, string field) => Json.Int64(status?[field]) ?? 0;

    /// <summary>Every replica updated and available, and the latest spec observed (<c>DeploymentComplete</c>).</summary>
    private static bool DeploymentComplete(JsonObject d, JsonObject? status)
    {
        var replicas = DeploymentStrategy.Replicas(d);
        return Count(status, "updatedReplicas") == replicas && Count(status, "replicas") == replicas
            && Count(status, "availableReplicas") == replicas && Count(status, "observedGeneration") >= Generation(d);
    }

    /// <summary>More updated, ready or available replicas than last time, or fewer old ones (<c>DeploymentProgressing</c>).</summary>
    private static bool DeploymentProgressing(JsonObject d, JsonObject status)
    {
        var old = d["status"] as JsonObject;
        var oldOld = Count(old, "replicas") - Count(old, "updatedReplicas");
        var newOld = Count(status, "replicas") - Count(status, "updatedReplicas");
        return Count(status, "updatedReplicas") > Count(old, "updatedReplicas") || newOld < oldOld
            || Count(status, "readyReplicas") > Count(old, "readyReplicas") || Count(status, "availableReplicas") > Count(old, "availableReplicas");
    }

    /// <summary>No progress seen for <c>progressDeadlineSeconds</c> since the Progressing condition last moved (<c>DeploymentTimedOut</c>).</summary>
    private bool DeploymentTimedOut(JsonObject d, JsonObject status)
    {
        var condition = StatusFields.Condition(status, "Progressing");
        if (DeploymentStrategy.ProgressDeadlineSeconds(d) is not { } deadline || condition is null)
        {
            return false;
        }

        var reason = Json.String(condition["reason"]);
        if (reason == NewReplicaSetAvailableReason)
        {
            return false;
        }

        if (reason == TimedOutReason)
        {
            return true;
        }

        return Meta.ParseTime(Json.String(condition["lastUpdateTime"])) is { } from && from.AddSeconds(deadline) < Time.GetUtcNow();
    }

    /// <summary>Comes back when the progress deadline would pass, so a stuck rollout is reported (<c>requeueStuckDeployment</c>).</summary>
    private void RequeueStuckDeployment(JsonObject d, JsonObject status)
    {
        var current = StatusFields.Condition(d["status"] as JsonObject, "Progressing");
        if (DeploymentStrategy.ProgressDeadlineSeconds(d) is not { } deadline || current is null
            || DeploymentComplete(d, status) || Json.String(current["reason"]) == TimedOutReason
            || Meta.ParseTime(Json.String(current["lastUpdateTime"])) is not { } from)
        {
            return;
        }

        var after = from.AddSeconds(deadline) - Time.GetUtcNow();
        Enqueue(StoredObject.KeyOf(Meta.Namespace(d), Meta.Name(d)), after < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : after);
    }

    /// <summary>The new ReplicaSet's ReplicaFailure condition, else an old one's, as a deployment condition (<c>getReplicaFailures</c>).</summary>
    private static JsonObject? ReplicaFailure(List<JsonObject?> all, JsonObject? newRs)
    {
        foreach (var rs in new[] { newRs }.Concat(all.Where(r => r is not null && (newRs is null || Meta.Uid(r) != Meta.Uid(newRs)))))
        {
            if (rs is not null && StatusFields.Condition(rs["status"] as JsonObject, "ReplicaFailure") is { } failure)
            {
                return new JsonObject
                {
                    ["type"] = "ReplicaFailure",
                    ["status"] = failure["status"]?.DeepClone(),
                    ["lastUpdateTime"] = failure["lastTransitionTime"]?.DeepClone(),
                    ["lastTransitionTime"] = failure["lastTransitionTime"]?.DeepClone(),
                    ["reason"] = failure["reason"]?.DeepClone(),
                    ["message"] = failure["message"]?.DeepClone(),
                };
            }
        }

        return null;
    }

    /// <summary>A deployment condition stamped now (<c>NewDeploymentCondition</c>).</summary>
    private JsonObject NewCondition(string type, string status, string reason, string message)
    {
        var now = Meta.Timestamp(Time.GetUtcNow());
        return new JsonObject
        {
            ["type"] = type,
            ["status"] = status,
            ["lastUpdateTime"] = now,
            ["lastTransitionTime"] = now,
            ["reason"] = reason,
            ["message"] = message,
        };
    }

    /// <summary>Sets a condition on a deployment's status (<c>SetDeploymentCondition</c>).</summary>
    private static void SetCondition(JsonObject d, JsonObject condition) => SetStatusCondition(Status(d), condition);

    /// <summary>
    /// <c>SetDeploymentCondition</c>: nothing changes when status and reason are the same; a condition whose status stays
    /// keeps its <c>lastTransitionTime</c>; the condition is moved to the end of the list.
    /// </summary>
    private static void SetStatusCondition(JsonObject status, JsonObject condition)
    {
        var type = Json.String(condition["type"])!;
        var current = StatusFields.Condition(status, type);
        if (current is not null && Json.String(current["status"]) == Json.String(condition["status"]) && Json.String(current["reason"]) == Json.String(condition["reason"]))
        {
            return;
        }

        if (current is not null && Json.String(current["status"]) == Json.String(condition["status"]))
        {
            condition["lastTransitionTime"] = current["lastTransitionTime"]?.DeepClone();
        }

        StatusFields.RemoveCondition(status, type);
        var conditions = status["conditions"] as JsonArray ?? [];
        conditions.Add(condition);
        status["conditions"] = conditions;
    }
}
