using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// kube-controller-manager's Deployment controller (<c>pkg/controller/deployment</c>): one ReplicaSet per pod template,
/// named <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;</c> and annotated with its revision and the replica counts it
/// was sized for; rolling updates and Recreate; proportional scaling of a deployment scaled mid-rollout or paused; old
/// ReplicaSets trimmed to <c>revisionHistoryLimit</c>; and the status and conditions <c>kubectl rollout status</c> reads.
/// This file holds the sync entry and the ReplicaSets' bookkeeping; the rollouts and the status live beside it.
/// </summary>
internal sealed partial class DeploymentController : ControllerLoop
{
    public const string PodTemplateHashLabel = "pod-template-hash";
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history";
    public const string DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas";
    public const string MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas";

    /// <summary>Annotations of a Deployment that its ReplicaSets do not copy (<c>annotationsToSkip</c>).</summary>
    private static readonly HashSet<string> AnnotationsToSkip =
    [
        "kubectl.kubernetes.io/last-applied-configuration",
        RevisionAnnotation,
        RevisionHistoryAnnotation,
        DesiredReplicasAnnotation,
        MaxReplicasAnnotation,
        "deprecated.deployment.rollback.to",
    ];

    private readonly ResourceType deployments;
    private readonly ResourceType replicaSets;
    private readonly ResourceType pods;

    /// <summary>
    /// <see cref="TemplateIgnoringHash(JsonObject)"/> of each Deployment's and ReplicaSet's template by UID, with the
    /// resourceVersion it was computed at: every sync compares the deployment's template with each ReplicaSet's several
    /// times, and a template only changes with a write.
    /// </summary>
    private readonly ConcurrentDictionary<string, (string ResourceVersion, string Template)> templates = new(StringComparer.Ordinal);

    public DeploymentController(ObjectService objects, ILoggerFactory loggerFactory)
        : base(objects, loggerFactory, "deployment-controller")
    {
        deployments = Type("apps", "deployments");
        replicaSets = Type("apps", "replicasets");
        pods = Type("", "pods");
    }

    protected override bool Watches(string storageKey) =>
        storageKey == deployments.StorageKey || storageKey == replicaSets.StorageKey || storageKey == pods.StorageKey;

    protected override IEnumerable<string> KeysFor(StoreEvent change)
    {
        if (change.Type == StoreEventType.Deleted)
        {
            templates.TryRemove(change.Object.Uid, out _);
        }

        if (change.StorageKey == deployments.StorageKey)
        {
            return [change.Object.Key];
        }

        var ns = change.Object.Namespace;
        var keys = new HashSet<string>(StringComparer.Ordinal);
        if (change.StorageKey == pods.StorageKey)
        {
            // A pod gone may let a Recreate rollout go on; its owner's owner is the deployment.
            if (change.Type == StoreEventType.Deleted
                && ControllerRefs.IsControlledBy(change.Object.Value, "apps", "ReplicaSet", out var rsName)
                && Store.Get(replicaSets.StorageKey, ns, rsName) is { } rs
                && ControllerRefs.IsControlledBy(rs.Value, "apps", "Deployment", out var deploymentName))
            {
                keys.Add(StoredObject.KeyOf(ns, deploymentName));
            }

            return keys;
        }

        keys.UnionWith(ControllerRefs.ControllerKeys(change, "apps", "Deployment"));

        if (change.Type != StoreEventType.Deleted && ControllerRefs.ControllerOf(change.Object.Value) is null)
        {
            var labels = change.Object.Value["metadata"]?["labels"] as JsonObject;
            foreach (var d in Store.List(deployments.StorageKey, ns).Items)
            {
                var selector = LabelSelector.FromLabelSelector(d.Value["spec"]?["selector"], "spec.selector").Selector;
                if (!selector.IsEmpty && selector.Matches(labels))
                {
                    keys.Add(d.Key);
                }
            }
        }

        return keys;
    }

    protected override IEnumerable<string> InitialKeys() => Store.List(deployments.StorageKey, null).Items.Select(i => i.Key);

    /// <summary><c>syncDeployment</c>: read the deployment and its ReplicaSets, then sync, scale or roll out.</summary>
    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var stored = Store.Get(deployments.StorageKey, key[..slash], key[(slash + 1)..]);
        if (stored is null)
        {
            return Task.CompletedTask;
        }

        var d = stored.Clone();
        var selectorNode = d["spec"]?["selector"];
        var (selector, errors) = LabelSelector.FromLabelSelector(selectorNode, "spec.selector");
        if (selectorNode is JsonObject && selector.IsEmpty)
        {
            RecordEvent(d, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
            if ((Json.Int64(d["status"]?["observedGeneration"]) ?? 0) < Generation(d))
            {
                Status(d)["observedGeneration"] = Generation(d);
                UpdateStatus(d);
            }

            return Task.CompletedTask;
        }

        if (errors.Count > 0)
        {
            Log.InvalidSelector(Logger, key);
            return Task.CompletedTask;
        }

        var rsList = ReplicaSetsFor(d, selector);
        if (Meta.IsDeleting(d))
        {
            SyncStatusOnly(d, rsList);
            return Task.CompletedTask;
        }

        CheckPausedConditions(d);
        if (DeploymentStrategy.IsPaused(d) || IsScalingEvent(d, rsList))
        {
            Sync(d, rsList);
            return Task.CompletedTask;
        }

        if (Json.String(d["spec"]?["strategy"]?["type"]) == "Recreate")
        {
            RolloutRecreate(d, rsList, PodsByReplicaSet(d, selector, rsList));
        }
        else
        {
            RolloutRolling(d, rsList);
        }

        return Task.CompletedTask;
    }

    private static long Generation(JsonObject obj) => Json.Int64(obj["metadata"]?["generation"]) ?? 0;

    private static JsonObject Status(JsonObject d)
    {
        if (d["status"] is not JsonObject status)
        {
            status = [];
            d["status"] = status;
        }

        return status;
    }

    private static string? Annotation(JsonObject obj, string name) => Json.String(obj["metadata"]?["annotations"]?[name]);

    private static JsonObject Annotations(JsonObject obj)
    {
        var metadata = Meta.Of(obj);
        if (metadata["annotations"] is not JsonObject annotations)
        {
            annotations = [];
            metadata["annotations"] = annotations;
        }

        return annotations;
    }

    /// <summary>The revision annotation of a ReplicaSet; 0 when absent or not a number.</summary>
    private static long Revision(JsonObject rs) =>
        long.TryParse(Annotation(rs, RevisionAnnotation), NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    /// <summary>Oldest first, ties by name (<c>controller.ReplicaSetsByCreationTimestamp</c>).</summary>
    private static List<JsonObject> ByCreation(IEnumerable<JsonObject> rsList) =>
        [.. rsList.OrderBy(rs => Pods.Created(rs) ?? DateTimeOffset.MinValue).ThenBy(Meta.Name, StringComparer.Ordinal)];

    private static List<JsonObject> Active(IEnumerable<JsonObject?> rsList) =>
        [.. rsList.OfType<JsonObject>().Where(rs => DeploymentStrategy.Replicas(rs) > 0)];

    private static long SpecReplicas(IEnumerable<JsonObject?> rsList) => rsList.OfType<JsonObject>().Sum(DeploymentStrategy.Replicas);

    private static long StatusCount(IEnumerable<JsonObject?> rsList, string field) =>
        rsList.OfType<JsonObject>().Sum(rs => Json.Int64(rs["status"]?[field]) ?? 0);

    /// <summary>
    /// The template of a Deployment or ReplicaSet without the <c>pod-template-hash</c> label, for <c>EqualIgnoreHash</c>;
    /// absent and empty label maps, and a null creation time, compare equal, as <c>apiequality.Semantic</c> has them.
    /// </summary>
    private string TemplateIgnoringHash(JsonObject owner)
    {
        var uid = Meta.Uid(owner);
        var resourceVersion = Meta.ResourceVersion(owner);
        if (uid.Length == 0 || string.IsNullOrEmpty(resourceVersion))
        {
            return TemplateIgnoringHash(owner["spec"]?["template"]);
        }

        if (templates.TryGetValue(uid, out var cached) && cached.ResourceVersion == resourceVersion)
        {
            return cached.Template;
        }

        var template = TemplateIgnoringHash(owner["spec"]?["template"]);
        templates[uid] = (resourceVersion, template);
        return template;
    }

    private static string TemplateIgnoringHash(JsonNode? template)
    {
        var copy = template?.DeepClone() as JsonObject ?? [];
        if (copy["metadata"] is JsonObject metadata)
        {
            if (metadata["labels"] is JsonObject labels)
            {
                labels.Remove(PodTemplateHashLabel);
                if (labels.Count == 0)
                {
                    metadata.Remove("labels");
                }
            }

            if (metadata.ContainsKey("creationTimestamp") && metadata["creationTimestamp"] is null)
            {
                metadata.Remove("creationTimestamp");
            }

            if (metadata.Count == 0)
            {
                copy.Remove("metadata");
            }
        }

        return TemplateHash.CanonicalJson(copy);
    }

    /// <summary>The ReplicaSets this deployment controls, adopting orphans its selector matches and releasing the rest.</summary>
    private List<JsonObject> ReplicaSetsFor(JsonObject d, LabelSelector selector)
    {
        var candidates = ControllerRefs.Candidates(Store, replicaSets, Meta.Namespace(d), Meta.Uid(d), selector);
        return [.. ControllerRefs.Claim(Objects, Writes, replicaSets, d, selector, candidates).Select(rs => (JsonObject)rs.DeepClone())];
    }

    /// <summary>The deployment's pods grouped by the UID of the ReplicaSet that controls them (<c>getPodMapForDeployment</c>).</summary>
    private Dictionary<string, List<JsonObject>> PodsByReplicaSet(JsonObject d, LabelSelector selector, List<JsonObject> rsList)
    {
        var map = rsList.ToDictionary(Meta.Uid, _ => new List<JsonObject>(), StringComparer.Ordinal);
        var owned = rsList.Select(Meta.Uid).Distinct(StringComparer.Ordinal).SelectMany(uid => Store.ListControlledBy(pods.StorageKey, Meta.Namespace(d), uid));
        foreach (var pod in owned.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value))
        {
            if (selector.Matches(pod["metadata"]?["labels"] as JsonObject) && ControllerRefs.ControllerOf(pod) is { } owner && map.TryGetValue(owner.Uid, out var list))
            {
                list.Add(pod);
            }
        }

        return map;
    }

    /// <summary>The ReplicaSet whose template is the deployment's, the oldest when several are (<c>FindNewReplicaSet</c>).</summary>
    private JsonObject? FindNewReplicaSet(JsonObject d, List<JsonObject> rsList)
    {
        var template = TemplateIgnoringHash(d);
        return ByCreation(rsList).FirstOrDefault(rs => TemplateIgnoringHash(rs) == template);
    }

    /// <summary>Every ReplicaSet but the new one (<c>FindOldReplicaSets</c>).</summary>
    private List<JsonObject> FindOldReplicaSets(JsonObject d, List<JsonObject> rsList)
    {
        var newRs = FindNewReplicaSet(d, rsList);
        return [.. rsList.Where(rs => newRs is null || Meta.Uid(rs) != Meta.Uid(newRs))];
    }

    /// <summary>The new ReplicaSet (created when asked to and missing) and the old ones, with revisions in step (<c>getAllReplicaSetsAndSyncRevision</c>).</summary>
    private (JsonObject? NewRs, List<JsonObject> OldRss) AllReplicaSetsAndSyncRevision(JsonObject d, List<JsonObject> rsList, bool createIfNotExisted)
    {
        var oldRss = FindOldReplicaSets(d, rsList);
        return (GetNewReplicaSet(d, rsList, oldRss, createIfNotExisted), oldRss);
    }

    /// <summary><c>getNewReplicaSet</c>: bring the new ReplicaSet's annotations and the deployment's revision up to date, or create it.</summary>
    private JsonObject? GetNewReplicaSet(JsonObject d, List<JsonObject> rsList, List<JsonObject> oldRss, bool createIfNotExisted)
    {
        var existing = FindNewReplicaSet(d, rsList);
        var newRevision = (oldRss.Count == 0 ? 0 : oldRss.Max(Revision)) + 1;
        var minReadySeconds = DeploymentStrategy.MinReadySeconds(d);
        if (existing is not null)
        {
            var rsCopy = (JsonObject)existing.DeepClone();
            var annotationsUpdated = SetNewReplicaSetAnnotations(d, rsCopy, newRevision, exists: true);
            if (annotationsUpdated || DeploymentStrategy.MinReadySeconds(rsCopy) != minReadySeconds)
            {
                SetMinReadySeconds(rsCopy, minReadySeconds);
                return UpdateReplicaSet(rsCopy);
            }

            var needsUpdate = SetDeploymentRevision(d, Annotation(rsCopy, RevisionAnnotation) ?? "");
            if (DeploymentStrategy.ProgressDeadlineSeconds(d) is not null && StatusFields.Condition(d["status"] as JsonObject, "Progressing") is null)
            {
                SetCondition(d, NewCondition("Progressing", "True", FoundNewReplicaSetReason, $"Found new replica set \"{Meta.Name(rsCopy)}\""));
                needsUpdate = true;
            }

            if (needsUpdate)
            {
                UpdateStatus(d);
            }

            return rsCopy;
        }

        if (!createIfNotExisted)
        {
            return null;
        }

        var collisionCount = Json.Int64(d["status"]?["collisionCount"]);
        var hash = TemplateHash.PodTemplate(d["spec"]?["template"], collisionCount);
        var template = d["spec"]?["template"]?.DeepClone() as JsonObject ?? [];
        var templateMetadata = Meta.Of(template);
        var labels = templateMetadata["labels"] as JsonObject ?? [];
        labels[PodTemplateHashLabel] = hash;
        templateMetadata["labels"] = labels;
        var selector = d["spec"]?["selector"]?.DeepClone() as JsonObject ?? [];
        var matchLabels = selector["matchLabels"] as JsonObject ?? [];
        matchLabels[PodTemplateHashLabel] = hash;
        selector["matchLabels"] = matchLabels;
        var name = $"{Meta.Name(d)}-{hash}";
        var newRs = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = Meta.Namespace(d),
                ["labels"] = labels.DeepClone(),
                ["ownerReferences"] = new JsonArray(ControllerRefs.NewControllerRef(d)),
            },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 0,
                ["selector"] = selector,
                ["template"] = template,
            },
        };
        SetMinReadySeconds(newRs, minReadySeconds);
        var newReplicas = NewRsNewReplicas(d, [.. oldRss, newRs], newRs);
        newRs["spec"]!["replicas"] = newReplicas;
        SetNewReplicaSetAnnotations(d, newRs, newRevision, exists: false);

        JsonObject created;
        var alreadyExists = false;
        try
        {
            created = Objects.Create(replicaSets, "v1", Meta.Namespace(d), newRs, Writes);
        }
        catch (ApiException error) when (error.Code == 409 && error.Reason == "AlreadyExists")
        {
            var found = Store.Get(replicaSets.StorageKey, Meta.Namespace(d), name)?.Clone();
            if (found is null || ControllerRefs.ControllerOf(found)?.Uid != Meta.Uid(d)
                || TemplateIgnoringHash(found) != TemplateIgnoringHash(d))
            {
                // Another object holds the name this template hashes to: hash again with one more collision.
                Status(d)["collisionCount"] = (collisionCount ?? 0) + 1;
                UpdateStatus(d);
                throw;
            }

            created = found;
            alreadyExists = true;
        }
        catch (ApiException error) when (!(error.Code == 403 && error.Message.Contains("is being terminated", StringComparison.Ordinal)))
        {
            var message = $"Failed to create new replica set \"{name}\": {error.Message}";
            if (DeploymentStrategy.ProgressDeadlineSeconds(d) is not null)
            {
                SetCondition(d, NewCondition("Progressing", "False", FailedReplicaSetCreateReason, message));
                TryUpdateStatus(d);
            }

            RecordEvent(d, "Warning", FailedReplicaSetCreateReason, message);
            throw;
        }

        if (!alreadyExists && newReplicas > 0)
        {
            RecordEvent(d, "Normal", "ScalingReplicaSet", $"Scaled up replica set {name} from 0 to {newReplicas}");
        }

        var changed = SetDeploymentRevision(d, newRevision.ToString(CultureInfo.InvariantCulture));
        if (!alreadyExists && DeploymentStrategy.ProgressDeadlineSeconds(d) is not null)
        {
            SetCondition(d, NewCondition("Progressing", "True", NewReplicaSetReason, $"Created new replica set \"{name}\""));
            changed = true;
        }

        if (changed)
        {
            UpdateStatus(d);
        }

        return created;
    }

    private static void SetMinReadySeconds(JsonObject rs, long seconds)
    {
        var spec = (JsonObject)rs["spec"]!;
        if (seconds == 0)
        {
            spec.Remove("minReadySeconds");
        }
        else
        {
            spec["minReadySeconds"] = seconds;
        }
    }

    /// <summary>Sets the deployment's revision annotation; true when it changed.</summary>
    private static bool SetDeploymentRevision(JsonObject d, string revision)
    {
        if (Annotation(d, RevisionAnnotation) == revision)
        {
            return false;
        }

        Annotations(d)[RevisionAnnotation] = revision;
        return true;
    }

    /// <summary>
    /// <c>SetNewReplicaSetAnnotations</c>: the deployment's own annotations, the new revision (the one it replaces kept in
    /// <c>revision-history</c>), and for a ReplicaSet about to be created the replica counts it is sized for.
    /// </summary>
    private static bool SetNewReplicaSetAnnotations(JsonObject d, JsonObject rs, long newRevision, bool exists)
    {
        var changed = CopyAnnotations(d, rs);
        var annotations = Annotations(rs);
        var oldText = Json.String(annotations[RevisionAnnotation]);
        long oldRevision = 0;
        if (oldText is not null && !long.TryParse(oldText, NumberStyles.None, CultureInfo.InvariantCulture, out oldRevision))
        {
            return false;
        }

        if (oldRevision < newRevision)
        {
            annotations[RevisionAnnotation] = newRevision.ToString(CultureInfo.InvariantCulture);
            changed = true;
            if (oldText is not null)
            {
                var history = Json.String(annotations[RevisionHistoryAnnotation]);
                annotations[RevisionHistoryAnnotation] = string.IsNullOrEmpty(history) ? oldText : $"{history},{oldText}";
            }
        }

        if (!exists && SetReplicasAnnotations(rs, DeploymentStrategy.Replicas(d), DeploymentStrategy.Replicas(d) + DeploymentStrategy.MaxSurge(d)))
        {
            changed = true;
        }

        return changed;
    }

    private static bool CopyAnnotations(JsonObject d, JsonObject rs)
    {
        var changed = false;
        if (d["metadata"]?["annotations"] is not JsonObject source)
        {
            return false;
        }

        foreach (var (name, value) in source)
        {
            if (AnnotationsToSkip.Contains(name) || Json.String(value) is not { } text || Annotation(rs, name) == text)
            {
                continue;
            }

            Annotations(rs)[name] = text;
            changed = true;
        }

        return changed;
    }

    /// <summary>Sets <c>desired-replicas</c> and <c>max-replicas</c>; true when either changed.</summary>
    private static bool SetReplicasAnnotations(JsonObject rs, long desired, long max)
    {
        var annotations = Annotations(rs);
        var changed = false;
        foreach (var (name, value) in new[] { (DesiredReplicasAnnotation, desired), (MaxReplicasAnnotation, max) })
        {
            var text = value.ToString(CultureInfo.InvariantCulture);
            if (Json.String(annotations[name]) != text)
            {
                annotations[name] = text;
                changed = true;
            }
        }

        return changed;
    }

    private static bool ReplicasAnnotationsNeedUpdate(JsonObject rs, long desired, long max) =>
        Annotation(rs, DesiredReplicasAnnotation) != desired.ToString(CultureInfo.InvariantCulture)
        || Annotation(rs, MaxReplicasAnnotation) != max.ToString(CultureInfo.InvariantCulture);

    private JsonObject UpdateReplicaSet(JsonObject rs) =>
        Objects.Update(replicaSets, "v1", Meta.Namespace(rs), Meta.Name(rs), (JsonObject)rs.DeepClone(), Writes, null).Object.DeepClone().AsObject();

    /// <summary>
    /// Writes the deployment's status (and its revision annotation, which a real API server takes through
    /// <c>/status</c> for deployments and this one takes through the main resource), both conditional on the version read.
    /// </summary>
    private void UpdateStatus(JsonObject d)
    {
        var ns = Meta.Namespace(d);
        var name = Meta.Name(d);
        var stored = Store.Get(deployments.StorageKey, ns, name) ?? throw ApiException.NotFound(deployments, name);
        if (!StatusFields.Same(stored.Value["metadata"]?["annotations"], d["metadata"]?["annotations"]))
        {
            var updated = Objects.Update(deployments, "v1", ns, name, (JsonObject)d.DeepClone(), Writes, null).Object;
            Meta.Of(d)["resourceVersion"] = Meta.ResourceVersion(updated);
        }

        var written = Objects.Update(deployments, "v1", ns, name, (JsonObject)d.DeepClone(), Writes, "status").Object;
        Meta.Of(d)["resourceVersion"] = Meta.ResourceVersion(written);
    }

    private void TryUpdateStatus(JsonObject d)
    {
        var name = Meta.Name(d);
        try
        {
            UpdateStatus(d);
        }
        catch (ApiException error)
        {
            Log.StatusNotWritten(Logger, name, error);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Deployment {Key} has an invalid selector; it is not synced until it changes")]
        public static partial void InvalidSelector(ILogger logger, string key);

        [LoggerMessage(Level = LogLevel.Debug, Message = "The status of deployment {Name} was not written")]
        public static partial void StatusNotWritten(ILogger logger, string name, Exception error);
    }
}
