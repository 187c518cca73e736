using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// The Deployment controller's moves (<c>rolling.go</c>, <c>recreate.go</c>, <c>sync.go</c>): roll out a new template
/// by surging the new ReplicaSet and draining old ones within maxSurge and maxUnavailable, recreate, scale
/// proportionally, and trim history.
/// </summary>
internal sealed partial class DeploymentController
{
    /// <summary><c>sync</c>: a scaling event or a paused deployment; no rollout, only sizes and status.</summary>
    private void Sync(JsonObject d, List<JsonObject> rsList)
    {
        var (newRs, oldRss) = AllReplicaSetsAndSyncRevision(d, rsList, createIfNotExisted: false);
        Scale(d, newRs, oldRss);
        if (DeploymentStrategy.IsPaused(d))
        {
            CleanupDeployment(oldRss, d);
        }

        SyncDeploymentStatus([.. oldRss, newRs], newRs, d);
    }

    private void SyncStatusOnly(JsonObject d, List<JsonObject> rsList)
    {
        var (newRs, oldRss) = AllReplicaSetsAndSyncRevision(d, rsList, createIfNotExisted: false);
        SyncDeploymentStatus([.. oldRss, newRs], newRs, d);
    }

    /// <summary>A ReplicaSet sized for another replica count than the deployment's now (<c>isScalingEvent</c>).</summary>
    private bool IsScalingEvent(JsonObject d, List<JsonObject> rsList)
    {
        var (newRs, oldRss) = AllReplicaSetsAndSyncRevision(d, rsList, createIfNotExisted: false);
        var replicas = DeploymentStrategy.Replicas(d).ToString(CultureInfo.InvariantCulture);
        return Active([.. oldRss, newRs]).Any(rs => Annotation(rs, DesiredReplicasAnnotation) is { } desired && desired != replicas);
    }

    /// <summary><c>scale</c>: size the one active ReplicaSet, drain the old ones behind a saturated new one, or share out proportionally.</summary>
    private void Scale(JsonObject d, JsonObject? newRs, List<JsonObject> oldRss)
    {
        var replicas = DeploymentStrategy.Replicas(d);
        if (FindActiveOrLatest(newRs, oldRss) is { } only)
        {
            if (DeploymentStrategy.Replicas(only) != replicas)
            {
                ScaleReplicaSetAndRecordEvent(only, replicas, d);
            }

            return;
        }

        if (IsSaturated(d, newRs))
        {
            foreach (var old in Active(oldRss))
            {
                ScaleReplicaSetAndRecordEvent(old, 0, d);
            }

            return;
        }

        if (!DeploymentStrategy.IsRollingUpdate(d))
        {
            return;
        }

        var all = Active([.. oldRss, newRs]);
        var allowed = replicas > 0 ? replicas + DeploymentStrategy.MaxSurge(d) : 0;
        var toAdd = allowed - SpecReplicas(all);
        var operation = "";
        if (toAdd > 0)
        {
            // Larger first; among equals, newer first when scaling up.
            all = [.. all.OrderByDescending(DeploymentStrategy.Replicas).ThenByDescending(rs => Pods.Created(rs) ?? DateTimeOffset.MinValue)];
            operation = "up";
        }
        else if (toAdd < 0)
        {
            // Larger first; among equals, older first when scaling down.
            all = [.. all.OrderByDescending(DeploymentStrategy.Replicas).ThenBy(rs => Pods.Created(rs) ?? DateTimeOffset.MinValue)];
            operation = "down";
        }

        long added = 0;
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var rs in all)
        {
            if (toAdd != 0)
            {
                var proportion = Proportion(rs, d, toAdd, added);
                sizes[Meta.Name(rs)] = DeploymentStrategy.Replicas(rs) + proportion;
                added += proportion;
            }
            else
            {
                sizes[Meta.Name(rs)] = DeploymentStrategy.Replicas(rs);
            }
        }

        for (var i = 0; i < all.Count; i++)
        {
            var rs = all[i];
            if (i == 0 && toAdd != 0)
            {
                // Leftovers go to the largest ReplicaSet.
                sizes[Meta.Name(rs)] = Math.Max(0, sizes[Meta.Name(rs)] + toAdd - added);
            }

            ScaleReplicaSet(rs, sizes[Meta.Name(rs)], d, operation);
        }
    }

    /// <summary>The one active ReplicaSet, or the newest when none is active (<c>FindActiveOrLatest</c>); null when several are active.</summary>
    private static JsonObject? FindActiveOrLatest(JsonObject? newRs, List<JsonObject> oldRss)
    {
        if (newRs is null && oldRss.Count == 0)
        {
            return null;
        }

        var newestFirst = ByCreation(oldRss);
        newestFirst.Reverse();
        var active = Active([.. newestFirst, newRs]);
        return active.Count switch
        {
            0 => newRs ?? newestFirst[0],
            1 => active[0],
            _ => null,
        };
    }

    /// <summary>The new ReplicaSet runs every replica, all available (<c>IsSaturated</c>).</summary>
    private static bool IsSaturated(JsonObject d, JsonObject? rs)
    {
        if (rs is null || !long.TryParse(Annotation(rs, DesiredReplicasAnnotation), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var desired))
        {
            return false;
        }

        var replicas = DeploymentStrategy.Replicas(d);
        return DeploymentStrategy.Replicas(rs) == replicas && desired == replicas && (Json.Int64(rs["status"]?["availableReplicas"]) ?? 0) == replicas;
    }

    /// <summary>How many replicas <paramref name="rs"/> gains or loses of a proportional scale (<c>GetProportion</c>).</summary>
    private static long Proportion(JsonObject rs, JsonObject d, long toAdd, long added)
    {
        if (DeploymentStrategy.Replicas(rs) == 0 || toAdd == 0 || toAdd == added)
        {
            return 0;
        }

        var fraction = ReplicaSetFraction(rs, d);
        var allowed = toAdd - added;
        return toAdd > 0 ? Math.Min(fraction, allowed) : Math.Max(fraction, allowed);
    }

    /// <summary>The ReplicaSet's share of the new size, in proportion to the size it was made for (<c>getReplicaSetFraction</c>).</summary>
    private static long ReplicaSetFraction(JsonObject rs, JsonObject d)
    {
        var rsReplicas = DeploymentStrategy.Replicas(rs);
        if (DeploymentStrategy.Replicas(d) == 0)
        {
            return -rsReplicas;
        }

        var deploymentMax = DeploymentStrategy.Replicas(d) + DeploymentStrategy.MaxSurge(d);
        if (!long.TryParse(Annotation(rs, MaxReplicasAnnotation), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var annotated) || annotated == 0)
        {
            // Without the annotation, the deployment's current size stands in for the size it was made for.
            annotated = Json.Int64(d["status"]?["replicas"]) ?? 0;
            if (annotated == 0)
            {
                return 0;
            }
        }

        var size = (double)(rsReplicas * deploymentMax) / annotated;
        var rounded = (long)(size < 0 ? size - 0.5 : size + 0.5);
        return rounded - rsReplicas;
    }

    /// <summary><c>rolloutRolling</c>: scale the new ReplicaSet up, then the old ones down, then record progress.</summary>
    private void RolloutRolling(JsonObject d, List<JsonObject> rsList)
    {
        var (newRs, oldRss) = AllReplicaSetsAndSyncRevision(d, rsList, createIfNotExisted: true);
        List<JsonObject?> all = [.. oldRss, newRs];
        if (ReconcileNewReplicaSet(all, newRs!, d) || ReconcileOldReplicaSets(all, Active(oldRss), newRs!, d))
        {
            SyncRolloutStatus(all, newRs, d);
            return;
        }

        if (DeploymentComplete(d, d["status"] as JsonObject))
        {
            CleanupDeployment(oldRss, d);
        }

        SyncRolloutStatus(all, newRs, d);
    }

    /// <summary><c>reconcileNewReplicaSet</c>: grow the new ReplicaSet as far as maxSurge allows, or shrink it to replicas.</summary>
    private bool ReconcileNewReplicaSet(List<JsonObject?> all, JsonObject newRs, JsonObject d)
    {
        var replicas = DeploymentStrategy.Replicas(d);
        var current = DeploymentStrategy.Replicas(newRs);
        if (current == replicas)
        {
            return false;
        }

        var target = current > replicas ? replicas : NewRsNewReplicas(d, all, newRs);
        return ScaleReplicaSetAndRecordEvent(newRs, target, d).Scaled;
    }

    /// <summary>The size the new ReplicaSet may grow to now (<c>NewRSNewReplicas</c>).</summary>
    private static long NewRsNewReplicas(JsonObject d, List<JsonObject?> all, JsonObject newRs)
    {
        var replicas = DeploymentStrategy.Replicas(d);
        if (!DeploymentStrategy.IsRollingUpdate(d))
        {
            return replicas;
        }

        var current = DeploymentStrategy.Replicas(newRs);
        var maxTotal = replicas + DeploymentStrategy.MaxSurge(d);
        var podCount = SpecReplicas(all);
        if (podCount >= maxTotal)
        {
            return current;
        }

        return current + Math.Min(maxTotal - podCount, replicas - current);
    }

    /// <summary><c>reconcileOldReplicaSets</c>: shrink old ReplicaSets, unhealthy replicas first, without going below the minimum available.</summary>
    private bool ReconcileOldReplicaSets(List<JsonObject?> all, List<JsonObject> oldRss, JsonObject newRs, JsonObject d)
    {
        if (SpecReplicas(oldRss) == 0)
        {
            return false;
        }

        var minAvailable = DeploymentStrategy.Replicas(d) - DeploymentStrategy.MaxUnavailable(d);
        var newRsUnavailable = DeploymentStrategy.Replicas(newRs) - (Json.Int64(newRs["status"]?["availableReplicas"]) ?? 0);
        var maxScaledDown = SpecReplicas(all) - minAvailable - newRsUnavailable;
        if (maxScaledDown <= 0)
        {
            return false;
        }

        var cleaned = CleanupUnhealthyReplicas(oldRss, d, maxScaledDown);
        var scaledDown = ScaleDownOldReplicaSetsForRollingUpdate([.. oldRss, newRs], oldRss, d);
        return cleaned + scaledDown > 0;
    }

    /// <summary><c>cleanupUnhealthyReplicas</c>: drop old replicas that are not available, oldest ReplicaSets first.</summary>
    private long CleanupUnhealthyReplicas(List<JsonObject> oldRss, JsonObject d, long maxCleanup)
    {
        var sorted = ByCreation(oldRss);
        long total = 0;
        foreach (var rs in sorted)
        {
            if (total >= maxCleanup)
            {
                break;
            }

            var replicas = DeploymentStrategy.Replicas(rs);
            var available = Json.Int64(rs["status"]?["availableReplicas"]) ?? 0;
            if (replicas == 0 || replicas == available)
            {
                continue;
            }

            var count = Math.Min(maxCleanup - total, replicas - available);
            if (count < 0)
            {
                // The ReplicaSet's status still counts pods its spec has already given up: wait for it to catch up.
                throw new InvalidOperationException(
                    $"when cleaning up unhealthy replicas, got invalid request to scale down {Meta.Namespace(rs)}/{Meta.Name(rs)} {replicas} -> {replicas - count}");
            }

            var updated = ScaleReplicaSetAndRecordEvent(rs, replicas - count, d).Rs;
            total += count;
            oldRss[oldRss.FindIndex(o => Meta.Uid(o) == Meta.Uid(rs))] = updated;
        }

        return total;
    }

    /// <summary><c>scaleDownOldReplicaSetsForRollingUpdate</c>: drop available old replicas while more than the minimum are available.</summary>
    private long ScaleDownOldReplicaSetsForRollingUpdate(List<JsonObject?> all, List<JsonObject> oldRss, JsonObject d)
    {
        var minAvailable = DeploymentStrategy.Replicas(d) - DeploymentStrategy.MaxUnavailable(d);
        var available = StatusCount(all, "availableReplicas");
        if (available <= minAvailable)
        {
            return 0;
        }

        var toScaleDown = available - minAvailable;
        long total = 0;
        foreach (var rs in ByCreation(oldRss))
        {
            if (total >= toScaleDown)
            {
                break;
            }

            var replicas = DeploymentStrategy.Replicas(rs);
            if (replicas == 0)
            {
                continue;
            }

            var count = Math.Min(replicas, toScaleDown - total);
            ScaleReplicaSetAndRecordEvent(rs, replicas - count, d);
            total += count;
        }

        return total;
    }

    /// <summary><c>rolloutRecreate</c>: scale every old ReplicaSet to zero, wait for their pods to go, then bring up the new one.</summary>
    private void RolloutRecreate(JsonObject d, List<JsonObject> rsList, Dictionary<string, List<JsonObject>> podMap)
    {
        var (newRs, oldRss) = AllReplicaSetsAndSyncRevision(d, rsList, createIfNotExisted: false);
        List<JsonObject?> all = [.. oldRss, newRs];
        var scaledDown = false;
        foreach (var rs in Active(oldRss))
        {
            scaledDown |= ScaleReplicaSetAndRecordEvent(rs, 0, d).Scaled;
        }

        if (scaledDown || OldPodsRunning(newRs, oldRss, podMap))
        {
            SyncRolloutStatus(all, newRs, d);
            return;
        }

        if (newRs is null)
        {
            (newRs, oldRss) = AllReplicaSetsAndSyncRevision(d, rsList, createIfNotExisted: true);
            all = [.. oldRss, newRs];
        }

        ReconcileNewReplicaSet(all, newRs!, d);
        if (DeploymentComplete(d, d["status"] as JsonObject))
        {
            CleanupDeployment(oldRss, d);
        }

        SyncRolloutStatus(all, newRs, d);
    }

    /// <summary>Old ReplicaSets still report pods, or any of their pods has not finished (<c>oldPodsRunning</c>).</summary>
    private static bool OldPodsRunning(JsonObject? newRs, List<JsonObject> oldRss, Dictionary<string, List<JsonObject>> podMap)
    {
        if (StatusCount(oldRss, "replicas") > 0)
        {
            return true;
        }

        return podMap.Any(entry => (newRs is null || entry.Key != Meta.Uid(newRs)) && entry.Value.Any(p => Pods.Phase(p) is not ("Failed" or "Succeeded")));
    }

    private (bool Scaled, JsonObject Rs) ScaleReplicaSetAndRecordEvent(JsonObject rs, long newScale, JsonObject d)
    {
        var current = DeploymentStrategy.Replicas(rs);
        return current == newScale ? (false, rs) : ScaleReplicaSet(rs, newScale, d, current > newScale ? "down" : "up");
    }

    /// <summary><c>scaleReplicaSet</c>: write the size and the replica annotations; a size change is a <c>ScalingReplicaSet</c> event.</summary>
    private (bool Scaled, JsonObject Rs) ScaleReplicaSet(JsonObject rs, long newScale, JsonObject d, string operation)
    {
        var oldScale = DeploymentStrategy.Replicas(rs);
        var replicas = DeploymentStrategy.Replicas(d);
        var max = replicas + DeploymentStrategy.MaxSurge(d);
        var sizeChanges = oldScale != newScale;
        if (!sizeChanges && !ReplicasAnnotationsNeedUpdate(rs, replicas, max))
        {
            return (false, rs);
        }

        var copy = (JsonObject)rs.DeepClone();
        copy["spec"]!["replicas"] = newScale;
        SetReplicasAnnotations(copy, replicas, max);
        var updated = UpdateReplicaSet(copy);
        if (sizeChanges)
        {
            RecordEvent(d, "Normal", "ScalingReplicaSet", $"Scaled {operation} replica set {Meta.Name(rs)} from {oldScale} to {newScale}");
        }

        return (sizeChanges, updated);
    }

    /// <summary><c>cleanupDeployment</c>: delete the oldest ReplicaSets with no pods beyond <c>revisionHistoryLimit</c>.</summary>
    private void CleanupDeployment(List<JsonObject> oldRss, JsonObject d)
    {
        if (DeploymentStrategy.RevisionHistoryLimit(d) is not { } limit)
        {
            return;
        }

        var cleanable = oldRss.Where(rs => !Meta.IsDeleting(rs)).ToList();
        var diff = cleanable.Count - limit;
        if (diff <= 0)
        {
            return;
        }

        var byRevision = cleanable.OrderBy(Revision).ThenBy(rs => Pods.Created(rs) ?? DateTimeOffset.MinValue).ToList();
        for (var i = 0; i < diff; i++)
        {
            var rs = byRevision[i];
            if ((Json.Int64(rs["status"]?["replicas"]) ?? 0) != 0 || DeploymentStrategy.Replicas(rs) != 0
                || Generation(rs) > (Json.Int64(rs["status"]?["observedGeneration"]) ?? 0))
            {
                continue;
            }

            try
            {
                Objects.Delete(replicaSets, "v1", Meta.Namespace(rs), Meta.Name(rs), new DeleteOptions(PreconditionUid: Meta.Uid(rs)));
            }
            catch (ApiException error) when (error.Code is 404 or 409)
            {
                // Already gone, or replaced by another object of that name.
            }
        }
    }

    /// <summary><c>checkPausedConditions</c>: record that the deployment was paused or resumed, unless it already timed out.</summary>
    private void CheckPausedConditions(JsonObject d)
    {
        if (DeploymentStrategy.ProgressDeadlineSeconds(d) is null)
        {
            return;
        }

        var condition = StatusFields.Condition(d["status"] as JsonObject, "Progressing");
        var reason = Json.String(condition?["reason"]);
        if (reason == TimedOutReason)
        {
            return;
        }

        var paused = DeploymentStrategy.IsPaused(d);
        if (paused && reason != PausedReason)
        {
            SetCondition(d, NewCondition("Progressing", "Unknown", PausedReason, "Deployment is paused"));
        }
        else if (!paused && reason == PausedReason)
        {
            SetCondition(d, NewCondition("Progressing", "Unknown", ResumedReason, "Deployment is resumed"));
        }
        else
        {
            return;
        }

        UpdateStatus(d);
    }
}
