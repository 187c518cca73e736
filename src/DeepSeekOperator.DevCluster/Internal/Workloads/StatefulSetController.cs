using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// kube-controller-manager's StatefulSet controller (<c>pkg/controller/statefulset</c>): pods <c>&lt;set&gt;-&lt;ordinal&gt;</c>
/// with a stable identity (<c>statefulset.kubernetes.io/pod-name</c>, <c>apps.kubernetes.io/pod-index</c>, hostname and
/// the governing service as subdomain) and their own claims <c>&lt;claim&gt;-&lt;set&gt;-&lt;ordinal&gt;</c>; with
/// OrderedReady a pod is created only when every lower one is Running and Ready, and removed highest first only when
/// the rest are; Parallel does both at once; RollingUpdate replaces pods of another revision from the highest ordinal
/// down to the partition.
/// </summary>
/// <remarks>
/// The emulator serves no ControllerRevisions, so a revision exists only as its name in the status
/// (<c>currentRevision</c>, <c>updateRevision</c>) and in the pods' <c>controller-revision-hash</c> label, hashed as
/// kube-controller-manager hashes the revision's data. Pods are always made from the current template: where a real
/// cluster recreates a pod below the partition (or, with OnDelete, one deleted by hand) from the older revision's
/// stored template, this one uses the newest. <c>persistentVolumeClaimRetentionPolicy.whenDeleted: Delete</c> makes the
/// set own its claims; <c>whenScaled: Delete</c> is not acted on.
/// </remarks>
internal sealed partial class StatefulSetController : ControllerLoop
{
    public const string RevisionLabel = "controller-revision-hash";
    public const string PodNameLabel = "statefulset.kubernetes.io/pod-name";
    public const string PodIndexLabel = "apps.kubernetes.io/pod-index";
    private readonly ResourceType statefulSets;
    private readonly ResourceType pods;
    private readonly ResourceType claims;

    public StatefulSetController(ObjectService objects, ILoggerFactory loggerFactory)
        : base(objects, loggerFactory, "statefulset-controller")
    {
        statefulSets = Type("apps", "statefulsets");
        pods = Type("", "pods");
        claims = Type("", "persistentvolumeclaims");
    }

    protected override bool Watches(string storageKey) => storageKey == statefulSets.StorageKey || storageKey == pods.StorageKey;

    protected override IEnumerable<string> KeysFor(StoreEvent change)
    {
        if (change.StorageKey == statefulSets.StorageKey)
        {
            return [change.Object.Key];
        }

        var ns = change.Object.Namespace;
        var keys = ControllerRefs.ControllerKeys(change, "apps", "StatefulSet");

        if (change.Type != StoreEventType.Deleted && ControllerRefs.ControllerOf(change.Object.Value) is null
            && Identity(change.Object.Name) is { } identity)
        {
            keys.Add(StoredObject.KeyOf(ns, identity.Parent));
        }

        return keys;
    }

    protected override IEnumerable<string> InitialKeys() => Store.List(statefulSets.StorageKey, null).Items.Select(i => i.Key);

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var stored = Store.Get(statefulSets.StorageKey, key[..slash], key[(slash + 1)..]);
        if (stored is null)
        {
            return Task.CompletedTask;
        }

        var set = stored.Clone();
        var (selector, errors) = LabelSelector.FromLabelSelector(set["spec"]?["selector"], "spec.selector");
        if (errors.Count > 0)
        {
            Log.InvalidSelector(Logger, key);
            return Task.CompletedTask;
        }

        var candidates = Store.List(pods.StorageKey, stored.Namespace).Items.Select(i => i.Value);
        var owned = ControllerRefs.Claim(Objects, Writes, pods, set, selector, candidates, pod => Identity(Meta.Name(pod))?.Parent == stored.Name);
        var collisionCount = Json.Int64(set["status"]?["collisionCount"]) ?? 0;
        var updateRevision = $"{stored.Name}-{TemplateHash.StatefulSetRevision(set["spec"]?["template"], collisionCount)}";
        var currentRevision = Json.String(set["status"]?["currentRevision"]) is { Length: > 0 } current ? current : updateRevision;

        var now = Time.GetUtcNow();
        var status = new Counts();
        Exception? failure = null;
        try
        {
            UpdateStatefulSet(set, owned, currentRevision, updateRevision, status, now);
        }
        catch (ApiException error)
        {
            failure = error;
        }

        WriteStatus(set, status, currentRevision, updateRevision, collisionCount);

        var minReadySeconds = DeploymentStrategy.MinReadySeconds(set);
        var next = owned.Select(p => Pods.AvailableAt(p, minReadySeconds, now)).Where(t => t is not null).Min();
        if (next is { } at)
        {
            Enqueue(key, at - now + TimeSpan.FromMilliseconds(50));
        }

        return failure is null ? Task.CompletedTask : throw failure;
    }

    /// <summary>The set a pod name belongs to and its ordinal (<c>getParentNameAndOrdinal</c>); null for other names.</summary>
    private static (string Parent, int Ordinal)? Identity(string podName)
    {
        var match = OrdinalPattern().Match(podName);
        return match.Success && int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal)
            ? (match.Groups[1].Value, ordinal)
            : null;
    }

    private static string Revision(JsonObject pod) => Meta.Label(pod, RevisionLabel) ?? "";

    private static bool IsCreated(JsonObject pod) => Pods.Phase(pod).Length > 0;

    private static bool IsHealthy(JsonObject pod) => Pods.IsRunningAndReady(pod) && !Meta.IsDeleting(pod);

    private static bool IsRunningAndAvailable(JsonObject set, JsonObject pod, DateTimeOffset now) =>
        Pods.Phase(pod) == "Running" && Pods.IsAvailable(pod, DeploymentStrategy.MinReadySeconds(set), now);

    /// <summary><c>updateStatefulSet</c>: one step of scaling and updating, counting what it sees into <paramref name="status"/>.</summary>
    private void UpdateStatefulSet(JsonObject set, List<JsonObject> owned, string currentRevision, string updateRevision, Counts status, DateTimeOffset now)
    {
        var replicaCount = (int)DeploymentStrategy.Replicas(set);
        var start = (int)(Json.Int64(set["spec"]?["ordinals"]?["start"]) ?? 0);
        var replicas = new JsonObject[replicaCount];
        var condemned = new List<(int Ordinal, JsonObject Pod)>();
        foreach (var pod in owned)
        {
            status.Replicas++;
            if (Pods.IsRunningAndReady(pod))
            {
                status.Ready++;
                if (IsRunningAndAvailable(set, pod, now))
                {
                    status.Available++;
                }
            }

            if (IsCreated(pod) && !Meta.IsDeleting(pod))
            {
                status.Current += Revision(pod) == currentRevision ? 1 : 0;
                status.Updated += Revision(pod) == updateRevision ? 1 : 0;
            }

            var ordinal = Identity(Meta.Name(pod))!.Value.Ordinal;
            if (ordinal >= start && ordinal < start + replicaCount)
            {
                replicas[ordinal - start] = pod;
            }
            else
            {
                condemned.Add((ordinal, pod));
            }
        }

        for (var i = 0; i < replicaCount; i++)
        {
            replicas[i] ??= NewPod(set, start + i, updateRevision);
        }

        condemned.Sort((a, b) => b.Ordinal.CompareTo(a.Ordinal));
        var firstUnhealthy = replicas.FirstOrDefault(p => !IsHealthy(p)) ?? condemned.Select(c => c.Pod).LastOrDefault(p => !IsHealthy(p));
        if (Meta.IsDeleting(set))
        {
            return;
        }

        var monotonic = Json.String(set["spec"]?["podManagementPolicy"]) != "Parallel";
        for (var i = 0; i < replicaCount; i++)
        {
            if (Pods.Phase(replicas[i]) is "Failed" or "Succeeded")
            {
                RecordEvent(set, "Warning", "RecreatingFailedPod", $"StatefulSet {Meta.Namespace(set)}/{Meta.Name(set)} is recreating failed Pod {Meta.Name(replicas[i])}");
                DeletePod(set, replicas[i]);
                status.Current -= Revision(replicas[i]) == currentRevision ? 1 : 0;
                status.Updated -= Revision(replicas[i]) == updateRevision ? 1 : 0;
                status.Replicas--;
                replicas[i] = NewPod(set, start + i, updateRevision);
            }

            if (!IsCreated(replicas[i]))
            {
                CreatePod(set, replicas[i]);
                status.Replicas++;
                status.Current += Revision(replicas[i]) == currentRevision ? 1 : 0;
                status.Updated += Revision(replicas[i]) == updateRevision ? 1 : 0;
                if (monotonic)
                {
                    return;
                }

                continue;
            }

            if (Pods.Phase(replicas[i]) == "Pending")
            {
                CreateMissingClaims(set, replicas[i]);
            }

            if (monotonic && (Meta.IsDeleting(replicas[i]) || !Pods.IsRunningAndReady(replicas[i]) || !IsRunningAndAvailable(set, replicas[i], now)))
            {
                return;
            }

            EnforceIdentity(replicas[i]);
        }

        foreach (var (_, pod) in condemned)
        {
            if (Meta.IsDeleting(pod))
            {
                if (monotonic)
                {
                    return;
                }

                continue;
            }

            if (monotonic && pod != firstUnhealthy && (!Pods.IsRunningAndReady(pod) || !IsRunningAndAvailable(set, pod, now)))
            {
                return;
            }

            DeletePod(set, pod);
            status.Current -= Revision(pod) == currentRevision ? 1 : 0;
            status.Updated -= Revision(pod) == updateRevision ? 1 : 0;
            if (monotonic)
            {
                return;
            }
        }

        if (Json.String(set["spec"]?["updateStrategy"]?["type"]) == "OnDelete")
        {
            return;
        }

        var partition = (int)(Json.Int64(set["spec"]?["updateStrategy"]?["rollingUpdate"]?["partition"]) ?? 0);
        for (var target = replicaCount - 1; target >= partition; target--)
        {
            if (Revision(replicas[target]) != updateRevision && !Meta.IsDeleting(replicas[target]))
            {
                DeletePod(set, replicas[target]);
                status.Current -= Revision(replicas[target]) == currentRevision ? 1 : 0;
                return;
            }

            if (!IsHealthy(replicas[target]))
            {
                return;
            }
        }
    }

    /// <summary>The pod of <paramref name="ordinal"/> at <paramref name="revision"/> (<c>newStatefulSetPod</c>), not yet created.</summary>
    private static JsonObject NewPod(JsonObject set, int ordinal, string revision)
    {
        var pod = Pods.FromTemplate(set["spec"]?["template"], ControllerRefs.NewControllerRef(set));
        var name = $"{Meta.Name(set)}-{ordinal}";
        var metadata = Meta.Of(pod);
        metadata["name"] = name;
        metadata["namespace"] = Meta.Namespace(set);
        var labels = metadata["labels"] as JsonObject ?? [];
        labels[PodNameLabel] = name;
        labels[PodIndexLabel] = ordinal.ToString(CultureInfo.InvariantCulture);
        labels[RevisionLabel] = revision;
        metadata["labels"] = labels;
        var spec = (JsonObject)pod["spec"]!;
        spec["hostname"] = name;
        if (Json.String(set["spec"]?["serviceName"]) is { Length: > 0 } service)
        {
            spec["subdomain"] = service;
        }

        var volumes = (spec["volumes"] as JsonArray)?.OfType<JsonObject>().Select(v => (JsonObject)v.DeepClone()).ToList() ?? [];
        foreach (var claim in ClaimTemplates(set))
        {
            var volumeName = Meta.Name(claim);
            volumes.RemoveAll(v => Json.String(v["name"]) == volumeName);
            volumes.Add(new JsonObject
            {
                ["name"] = volumeName,
                ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = ClaimName(set, claim, ordinal) },
            });
        }

        if (volumes.Count > 0)
        {
            spec["volumes"] = new JsonArray([.. volumes]);
        }

        return pod;
    }

    private static IEnumerable<JsonObject> ClaimTemplates(JsonObject set) =>
        (set["spec"]?["volumeClaimTemplates"] as JsonArray)?.OfType<JsonObject>() ?? [];

    private static string ClaimName(JsonObject set, JsonObject claim, int ordinal) => $"{Meta.Name(claim)}-{Meta.Name(set)}-{ordinal}";

    private void CreatePod(JsonObject set, JsonObject pod)
    {
        CreateMissingClaims(set, pod);
        try
        {
            Objects.Create(pods, "v1", Meta.Namespace(set), (JsonObject)pod.DeepClone(), Writes);
            RecordEvent(set, "Normal", "SuccessfulCreate", $"create Pod {Meta.Name(pod)} in StatefulSet {Meta.Name(set)} successful");
        }
        catch (ApiException error) when (error.Code != 409)
        {
            RecordEvent(set, "Warning", "FailedCreate", $"create Pod {Meta.Name(pod)} in StatefulSet {Meta.Name(set)} failed error: {error.Message}");
            throw;
        }
    }

    private void DeletePod(JsonObject set, JsonObject pod)
    {
        try
        {
            Objects.Delete(pods, "v1", Meta.Namespace(pod), Meta.Name(pod), new DeleteOptions(PreconditionUid: Meta.Uid(pod)));
            RecordEvent(set, "Normal", "SuccessfulDelete", $"delete Pod {Meta.Name(pod)} in StatefulSet {Meta.Name(set)} successful");
        }
        catch (ApiException error) when (error.Code is not (404 or 409))
        {
            RecordEvent(set, "Warning", "FailedDelete", $"delete Pod {Meta.Name(pod)} in StatefulSet {Meta.Name(set)} failed error: {error.Message}");
            throw;
        }
        catch (ApiException)
        {
            // Gone already, or replaced: the next sync sees the world as it is.
        }
    }

    /// <summary>Creates the pod's claims that do not exist yet (<c>createPersistentVolumeClaims</c>).</summary>
    private void CreateMissingClaims(JsonObject set, JsonObject pod)
    {
        if (Identity(Meta.Name(pod)) is not { } identity)
        {
            return;
        }

        var ns = Meta.Namespace(set);
        foreach (var template in ClaimTemplates(set))
        {
            var name = ClaimName(set, template, identity.Ordinal);
            if (Store.Get(claims.StorageKey, ns, name) is { } existing)
            {
                if (Meta.IsDeleting(existing.Value))
                {
                    throw ApiException.Conflict(claims, name, $"pvc {name} is being deleted");
                }

                continue;
            }

            var labels = template["metadata"]?["labels"]?.DeepClone() as JsonObject ?? [];
            foreach (var (label, value) in set["spec"]?["selector"]?["matchLabels"] as JsonObject ?? [])
            {
                labels[label] = value?.DeepClone();
            }

            var metadata = new JsonObject { ["name"] = name, ["labels"] = labels };
            if (template["metadata"]?["annotations"] is JsonObject annotations)
            {
                metadata["annotations"] = annotations.DeepClone();
            }

            if (Json.String(set["spec"]?["persistentVolumeClaimRetentionPolicy"]?["whenDeleted"]) == "Delete")
            {
                metadata["ownerReferences"] = new JsonArray(ControllerRefs.NewControllerRef(set));
            }

            var claim = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "PersistentVolumeClaim",
                ["metadata"] = metadata,
                ["spec"] = template["spec"]?.DeepClone() ?? new JsonObject(),
            };
            try
            {
                Objects.Create(claims, "v1", ns, claim, Writes);
                RecordEvent(set, "Normal", "SuccessfulCreate", $"create Claim {name} Pod {Meta.Name(pod)} in StatefulSet {Meta.Name(set)} success");
            }
            catch (ApiException error) when (error.Code == 409)
            {
                // Created meanwhile: it is there, which is all that matters.
            }
            catch (ApiException error)
            {
                RecordEvent(set, "Warning", "FailedCreate", $"create Claim {name} for Pod {Meta.Name(pod)} in StatefulSet {Meta.Name(set)} failed error: {error.Message}");
                throw;
            }
        }
    }

    /// <summary>Puts back the identity labels of a pod that lost them (<c>identityMatches</c>, <c>updateIdentity</c>).</summary>
    private void EnforceIdentity(JsonObject pod)
    {
        var name = Meta.Name(pod);
        var index = Identity(name)!.Value.Ordinal.ToString(CultureInfo.InvariantCulture);
        var labels = Meta.Labels(pod);
        if (labels.GetValueOrDefault(PodNameLabel) == name && labels.GetValueOrDefault(PodIndexLabel) == index)
        {
            return;
        }

        Objects.Patch(pods, "v1", Meta.Namespace(pod), name, found =>
        {
            var current = found!;
            if (Meta.Uid(current) != Meta.Uid(pod))
            {
                throw ApiException.NotFound(pods, name);
            }

            var currentLabels = Meta.Of(current)["labels"] as JsonObject ?? [];
            currentLabels[PodNameLabel] = name;
            currentLabels[PodIndexLabel] = index;
            Meta.Of(current)["labels"] = currentLabels;
            return current;
        }, Writes, null, createIfMissing: false);
    }

    /// <summary><c>updateStatefulSetStatus</c>: finish a rolling update that reached every pod, then write what changed.</summary>
    private void WriteStatus(JsonObject set, Counts counts, string currentRevision, string updateRevision, long collisionCount)
    {
        var isRolling = Json.String(set["spec"]?["updateStrategy"]?["type"]) != "OnDelete";
        if (isRolling && counts.Updated == counts.Replicas && counts.Ready == counts.Replicas)
        {
            counts.Current = counts.Updated;
            currentRevision = updateRevision;
        }

        var status = new JsonObject();
        StatusFields.SetCount(status, "observedGeneration", Json.Int64(set["metadata"]?["generation"]) ?? 0);
        StatusFields.SetCount(status, "replicas", counts.Replicas, omitZero: false);
        StatusFields.SetCount(status, "readyReplicas", counts.Ready);
        StatusFields.SetCount(status, "currentReplicas", counts.Current);
        StatusFields.SetCount(status, "updatedReplicas", counts.Updated);
        status["currentRevision"] = currentRevision;
        status["updateRevision"] = updateRevision;
        status["collisionCount"] = collisionCount;
        if (set["status"]?["conditions"] is JsonArray conditions)
        {
            status["conditions"] = conditions.DeepClone();
        }

        StatusFields.SetCount(status, "availableReplicas", counts.Available, omitZero: false);
        if (StatusFields.Same(set["status"], status))
        {
            return;
        }

        set["status"] = status;
        Objects.Update(statefulSets, "v1", Meta.Namespace(set), Meta.Name(set), set, Writes, "status");
    }

    [GeneratedRegex("^(.*)-([0-9]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex OrdinalPattern();

    /// <summary>The replica counts of one sync.</summary>
    private sealed class Counts
    {
        public long Replicas { get; set; }

        public long Ready { get; set; }

        public long Available { get; set; }

        public long Current { get; set; }

        public long Updated { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "StatefulSet {Key} has an invalid selector; it is not synced until it changes")]
        public static partial void InvalidSelector(ILogger logger, string key);
    }
}
