using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// kube-controller-manager's ReplicaSet controller (<c>pkg/controller/replicaset</c>): keeps <c>spec.replicas</c> active
/// pods from <c>spec.template</c>, created in slow-start batches and deleted in <see cref="PodDeletionOrder"/>; adopts
/// orphans its selector matches and releases pods it no longer matches; reports <c>replicas</c>,
/// <c>fullyLabeledReplicas</c>, <c>readyReplicas</c>, <c>availableReplicas</c>, <c>observedGeneration</c> and the
/// <c>ReplicaFailure</c> condition. It reads the store directly, which always holds its own writes, so it needs none
/// of the create/delete expectations the real controller keeps for its informer's lag.
/// </summary>
internal sealed partial class ReplicaSetController : ControllerLoop
{
    /// <summary>The most pods created or deleted in one sync (<c>BurstReplicas</c>).</summary>
    private const int BurstReplicas = 500;
    private readonly ResourceType replicaSets;
    private readonly ResourceType pods;

    public ReplicaSetController(ObjectService objects, ILoggerFactory loggerFactory)
        : base(objects, loggerFactory, "replicaset-controller")
    {
        replicaSets = Type("apps", "replicasets");
        pods = Type("", "pods");
    }

    protected override bool Watches(string storageKey) => storageKey == replicaSets.StorageKey || storageKey == pods.StorageKey;

    protected override IEnumerable<string> KeysFor(StoreEvent change)
    {
        if (change.StorageKey == replicaSets.StorageKey)
        {
            return [change.Object.Key];
        }

        var ns = change.Object.Namespace;
        var keys = ControllerRefs.ControllerKeys(change, "apps", "ReplicaSet");

        if (change.Type != StoreEventType.Deleted && ControllerRefs.ControllerOf(change.Object.Value) is null)
        {
            // An orphan: every ReplicaSet that would adopt it.
            var labels = change.Object.Value["metadata"]?["labels"] as JsonObject;
            foreach (var rs in Store.List(replicaSets.StorageKey, ns).Items)
            {
                if (LabelSelector.FromLabelSelector(rs.Value["spec"]?["selector"], "spec.selector").Selector.Matches(labels))
                {
                    keys.Add(rs.Key);
                }
            }
        }

        return keys;
    }

    protected override IEnumerable<string> InitialKeys() => Store.List(replicaSets.StorageKey, null).Items.Select(i => i.Key);

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var (ns, name) = (key[..slash], key[(slash + 1)..]);
        var stored = Store.Get(replicaSets.StorageKey, ns, name);
        if (stored is null)
        {
            return Task.CompletedTask;
        }

        var rs = stored.Value;
        var (selector, errors) = LabelSelector.FromLabelSelector(rs["spec"]?["selector"], "spec.selector");
        if (errors.Count > 0)
        {
            // A selector that cannot be parsed is never retried until the object changes.
            Log.InvalidSelector(Logger, key);
            return Task.CompletedTask;
        }

        var active = ControllerRefs.Candidates(Store, pods, ns, stored.Uid, selector).Where(Pods.IsActive);
        var owned = ControllerRefs.Claim(Objects, Writes, pods, rs, selector, active);

        ApiException? manageError = null;
        if (!Meta.IsDeleting(rs))
        {
            manageError = ManageReplicas(rs, owned);
        }

        var now = Time.GetUtcNow();
        var status = CalculateStatus(rs, owned, manageError, now);
        var updated = WriteStatus(rs, status);

        var minReadySeconds = Json.Int64(updated["spec"]?["minReadySeconds"]) ?? 0;
        if (manageError is null && minReadySeconds > 0)
        {
            // Come back when the next ready pod has been ready for minReadySeconds.
            var next = owned.Select(p => Pods.AvailableAt(p, minReadySeconds, now)).Where(t => t is not null).Min();
            if (next is { } at)
            {
                Enqueue(key, at - now + TimeSpan.FromMilliseconds(50));
            }
        }

        return manageError is null ? Task.CompletedTask : throw manageError;
    }

    private static long Replicas(JsonObject rs) => Json.Int64(rs["spec"]?["replicas"]) ?? 1;

    private ApiException? ManageReplicas(JsonObject rs, List<JsonObject> owned)
    {
        var diff = owned.Count - Replicas(rs);
        if (diff < 0)
        {
            return CreatePods(rs, (int)Math.Min(-diff, BurstReplicas));
        }

        if (diff == 0)
        {
            return null;
        }

        var related = RelatedPods(rs);
        var victims = PodDeletionOrder.PodsToDelete(owned, related, (int)Math.Min(diff, BurstReplicas), Time.GetUtcNow());
        ApiException? failure = null;
        foreach (var pod in victims)
        {
            try
            {
                Objects.Delete(pods, "v1", Meta.Namespace(pod), Meta.Name(pod), new DeleteOptions());
                RecordEvent(rs, "Normal", "SuccessfulDelete", $"Deleted pod: {Meta.Name(pod)}");
            }
            catch (ApiException error) when (error.Code != 404)
            {
                RecordEvent(rs, "Warning", "FailedDelete", $"Error deleting: {error.Message}");
                failure ??= error;
            }
            catch (ApiException)
            {
                // Someone else deleted it first.
            }
        }

        return failure;
    }

    /// <summary>Creates <paramref name="count"/> pods in batches of 1, 2, 4, … stopping after a batch with a failure (<c>slowStartBatch</c>).</summary>
    private ApiException? CreatePods(JsonObject rs, int count)
    {
        var template = rs["spec"]?["template"];
        if (template?["metadata"]?["labels"] is not JsonObject { Count: > 0 })
        {
            var error = new ApiException(500, "InternalError", "unable to create pods, no labels");
            RecordEvent(rs, "Warning", "FailedCreate", $"Error creating: {error.Message}");
            return error;
        }

        var remaining = count;
        for (var batch = 1; remaining > 0; batch *= 2)
        {
            var size = Math.Min(batch, remaining);
            ApiException? failure = null;
            for (var i = 0; i < size; i++)
            {
                var pod = Pods.FromTemplate(template, ControllerRefs.NewControllerRef(rs));
                Meta.Of(pod)["generateName"] = Meta.Name(rs) + "-";
                try
                {
                    var created = Objects.Create(pods, "v1", Meta.Namespace(rs), pod, Writes);
                    RecordEvent(rs, "Normal", "SuccessfulCreate", $"Created pod: {Meta.Name(created)}");
                }
                catch (ApiException error) when (error.Code == 403 && error.Message.Contains("is being terminated", StringComparison.Ordinal))
                {
                    // The namespace is going away: nothing more to create, and no failure to report.
                    return null;
                }
                catch (ApiException error)
                {
                    RecordEvent(rs, "Warning", "FailedCreate", $"Error creating: {error.Message}");
                    failure ??= error;
                }
            }

            if (failure is not null)
            {
                return failure;
            }

            remaining -= size;
        }

        return null;
    }

    /// <summary>The pods of every ReplicaSet controlled by the same owner as <paramref name="rs"/> (<c>getIndirectlyRelatedPods</c>).</summary>
    private List<JsonObject> RelatedPods(JsonObject rs)
    {
        var ns = Meta.Namespace(rs);
        var owner = ControllerRefs.ControllerOf(rs);
        var siblings = owner is null
            ? [Meta.Uid(rs)]
            : Store.ListControlledBy(replicaSets.StorageKey, ns, owner.Uid).Select(s => s.Uid).Distinct(StringComparer.Ordinal);
        return [.. siblings.SelectMany(uid => Store.ListControlledBy(pods.StorageKey, ns, uid)).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value)];
    }

    private static JsonObject CalculateStatus(JsonObject rs, List<JsonObject> owned, ApiException? manageError, DateTimeOffset now)
    {
        var status = rs["status"]?.DeepClone() as JsonObject ?? [];
        var templateLabels = rs["spec"]?["template"]?["metadata"]?["labels"] as JsonObject;
        var minReadySeconds = Json.Int64(rs["spec"]?["minReadySeconds"]) ?? 0;
        long fullyLabeled = 0, ready = 0, available = 0;
        foreach (var pod in owned)
        {
            var labels = pod["metadata"]?["labels"] as JsonObject;
            if (templateLabels is null || templateLabels.All(l => labels?[l.Key]?.ToString() == l.Value?.ToString()))
            {
                fullyLabeled++;
            }

            if (Pods.IsReady(pod))
            {
                ready++;
                if (Pods.IsAvailable(pod, minReadySeconds, now))
                {
                    available++;
                }
            }
        }

        var failure = StatusFields.Condition(status, "ReplicaFailure");
        if (manageError is not null && failure is null)
        {
            var diff = owned.Count - Replicas(rs);
            var conditions = status["conditions"] as JsonArray ?? [];
            conditions.Add(new JsonObject
            {
                ["type"] = "ReplicaFailure",
                ["status"] = "True",
                ["lastTransitionTime"] = Meta.Timestamp(now),
                ["reason"] = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "",
                ["message"] = manageError.Message,
            });
            status["conditions"] = conditions;
        }
        else if (manageError is null && failure is not null)
        {
            StatusFields.RemoveCondition(status, "ReplicaFailure");
        }

        StatusFields.SetCount(status, "replicas", owned.Count, omitZero: false);
        StatusFields.SetCount(status, "fullyLabeledReplicas", fullyLabeled);
        StatusFields.SetCount(status, "readyReplicas", ready);
        StatusFields.SetCount(status, "availableReplicas", available);
        StatusFields.SetCount(status, "observedGeneration", Json.Int64(rs["metadata"]?["generation"]) ?? 0);
        return status;
    }

    /// <summary>Writes the status when it or the observed generation changed (<c>updateReplicaSetStatus</c>); returns the ReplicaSet as stored.</summary>
    private JsonObject WriteStatus(JsonObject rs, JsonObject status)
    {
        if (StatusFields.Same(rs["status"], status))
        {
            return rs;
        }

        var body = (JsonObject)rs.DeepClone();
        body["status"] = status;
        return Objects.Update(replicaSets, "v1", Meta.Namespace(rs), Meta.Name(rs), body, Writes, "status").Object;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "ReplicaSet {Key} has an invalid selector; it is not synced until it changes")]
        public static partial void InvalidSelector(ILogger logger, string key);
    }
}
