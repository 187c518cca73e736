using System.Collections.Concurrent;
using System.Net;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Reconciling.Internal;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.Moe;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Reconciling;

/// <summary>
/// Converges a DeepSeekModel's children towards <see cref="ModelChildren.Build"/>: reads them from the controller's
/// caches (<see cref="ModelCaches"/>), creates the missing ones, puts back the fields the operator owns where they were
/// changed, and writes the model's status (replica counts, placement, endpoint, and the Ready, Progressing and Degraded
/// conditions) when it changed. A spec that cannot be served is reported as Ready=False and not retried until the spec
/// changes; a write conflict (also the sign of a cache behind the server) is retried with backoff. The
/// ServiceMonitor is applied the same way where the Prometheus Operator's CRD is installed, and skipped where it is not.
/// A checkpoint's architecture (a PVC, host path or image source) is learnt from a <see cref="ModelConfigReader"/> pod:
/// created when missing (and those of an earlier source deleted), its termination message parsed once it succeeded and
/// kept in memory per model and source, and its failure reported as <see cref="ModelConfigUnavailable"/> until the
/// source or image changes. The succeeded pod stays, so an operator that restarts reads it rather than running another.
/// Shard Deployments, Services, PodDisruptionBudgets and placement ConfigMaps beyond a reduced shard count are deleted.
/// The placement ConfigMaps' data is written only when they are created or no longer fit the spec (see <see cref="ModelChildren.Build"/>).
/// </summary>
/// <param name="caches">The models' cache and the children's, which the reconciler reads instead of the API server.</param>
/// <param name="client">The client children and status are written with.</param>
/// <param name="settings">The operator's settings the children are built with.</param>
/// <param name="events">Where Events about the model go.</param>
/// <param name="time">The clock of the conditions' lastTransitionTime.</param>
/// <param name="monitoringRecheck">
/// How long the answer to whether the ServiceMonitor CRD is installed is trusted before it is looked up again (the
/// models' resync period); <see cref="TimeSpan.Zero"/> looks it up on every reconcile.
/// </param>
/// <param name="logger">The reconciler's log.</param>
public sealed class DeepSeekModelReconciler(
    ModelCaches caches,
    Kubernetes client,
    OperatorSettings settings,
    EventRecorder events,
    TimeProvider time,
    TimeSpan monitoringRecheck,
    ILogger<DeepSeekModelReconciler> logger) : IReconciler
{
    /// <summary>The Ready reason of a spec whose children cannot be built; the message names the field.</summary>
    public const string InvalidSpec = "InvalidSpec";

    /// <summary>The Ready reason of a model whose checkpoint's config.json could not be read; the message says why, naming the file and key.</summary>
    public const string ModelConfigUnavailable = "ModelConfigUnavailable";

    /// <summary>The Ready and Progressing reason while a <see cref="ModelConfigReader"/> pod reads the checkpoint's config.json.</summary>
    public const string ReadingModelConfig = "ReadingModelConfig";

    private readonly ChildClient children = new(client);
    private readonly StatusWriter statusWriter = new(client, logger, caches.Models);
    private readonly AppliedChildren matched = new();

    // The architecture each model's reader pod (whose name carries the source's hash) reported, by model uid.
    private readonly ConcurrentDictionary<string, (string Pod, ModelConfig Config)> configs = new(StringComparer.Ordinal);
    private readonly ServiceMonitorCrd monitoring = new(client, time, monitoringRecheck);

    /// <inheritdoc />
    public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var model = caches.Models.Get(key);
        if (model is null)
        {
            statusWriter.Forget(key);
            matched.Forget(key);
            return ReconcileResult.Done;
        }

        ModelChildren desired;
        ModelConfig config;
        try
        {
            // A synthetic preset's architecture is known; a checkpoint's is in its config.json, which a pod reads.
            if (ModelChildren.PresetConfig(model.Spec.Model.Source) is { } preset)
            {
                config = preset;
            }
            else if (await ReadConfigAsync(model, cancellationToken).ConfigureAwait(false) is { } read)
            {
                config = read;
            }
            else
            {
                return ReconcileResult.Done;
            }

            var replicaTargets = ReplicaOwnership.Targets(caches.HorizontalPodAutoscalers.List(), key.Namespace);
            // The placement ConfigMaps record the published placement (the rebalancer's revisions): kept while they fit.
            desired = ModelChildren.Build(model, config, settings, replicaTargets, name => caches.ConfigMaps.Get(new ObjectKey(key.Namespace, name)));
        }
        catch (InvalidModelSpecException exception)
        {
            return await NotServableAsync(model, ModelPhase.Failed, InvalidSpec, exception.Message, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.Conflict)
        {
            ReconcileLog.Conflict(logger, exception.Response.Content, key.ToString());
            return ReconcileResult.Failed("Conflict: " + exception.Response.Content);
        }

        var writes = new ChildWrites();
        try
        {
            var applied = new Dictionary<string, IKubernetesObject<V1ObjectMeta>>();
            foreach (var child in desired.BuiltIn)
            {
                if (await ApplyAsync(model, child, writes, cancellationToken).ConfigureAwait(false) is not { } live)
                {
                    return ReconcileResult.Failed($"{child.Kind} {child.Metadata.Name} is controlled by another owner.");
                }

                applied[child.Kind + "/" + child.Metadata.Name] = live;
            }

            var keep = desired.BuiltIn.Select(child => child.Kind + "/" + child.Metadata.Name).ToHashSet(StringComparer.Ordinal);
            await PruneAsync(model, caches.Deployments, "Deployment", keep,
                (name, ns, token) => client.AppsV1.DeleteNamespacedDeploymentAsync(name, ns, propagationPolicy: "Background", cancellationToken: token), cancellationToken).ConfigureAwait(false);
            await PruneAsync(model, caches.Services, "Service", keep,
                (name, ns, token) => client.CoreV1.DeleteNamespacedServiceAsync(name, ns, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            await PruneAsync(model, caches.DisruptionBudgets, "PodDisruptionBudget", keep,
                (name, ns, token) => client.PolicyV1.DeleteNamespacedPodDisruptionBudgetAsync(name, ns, cancellationToken: token), cancellationToken).ConfigureAwait(false);
            await PruneAsync(model, caches.ConfigMaps, "ConfigMap", keep,
                (name, ns, token) => client.CoreV1.DeleteNamespacedConfigMapAsync(name, ns, cancellationToken: token), cancellationToken).ConfigureAwait(false);

            if (await monitoring.IsInstalledAsync(cancellationToken).ConfigureAwait(false)
                && await ApplyAsync(model, desired.ServiceMonitor, writes, cancellationToken).ConfigureAwait(false) is null)
            {
                return ReconcileResult.Failed($"{ServiceMonitor.KindName} {desired.ServiceMonitor.Metadata.Name} is controlled by another owner.");
            }

            V1Deployment Deployment(V1Deployment child) => (V1Deployment)applied[child.Kind + "/" + child.Metadata.Name];
            var router = Deployment(desired.RouterDeployment);
            var shards = desired.ShardDeployments.Select(Deployment).ToList();
            var generation = model.Metadata.Generation ?? 0;
            await WriteStatusAsync(key, current => ModelStatus.Serving(current, generation, desired, config.NRoutedExperts, router, shards, Now()), cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Done;
        }
        catch (HttpOperationException exception) when (exception.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
        {
            // The caches were behind the server (a child changed, created or deleted meanwhile), or a status write raced
            // another: read the world again after a backoff, by when the caches have caught up.
            ReconcileLog.Conflict(logger, exception.Response.Content, key.ToString());
            return ReconcileResult.Failed(exception.Response.StatusCode + ": " + exception.Response.Content);
        }
        finally
        {
            // Also when a later write failed: what was written is news either way.
            await RecordWritesAsync(model, writes, cancellationToken).ConfigureAwait(false);
        }
    }

    // One Created and one Updated Event for what this reconcile wrote, each naming the children.
    private async Task RecordWritesAsync(DeepSeekModel model, ChildWrites writes, CancellationToken cancellationToken)
    {
        if (writes.CreatedMessage() is { } created)
        {
            await events.RecordAsync(model, EventRecorder.Normal, "Created", created, cancellationToken).ConfigureAwait(false);
        }

        if (writes.UpdatedMessage() is { } updated)
        {
            await events.RecordAsync(model, EventRecorder.Normal, "Updated", updated, cancellationToken).ConfigureAwait(false);
        }
    }

    // The architecture the model's reader pod reported, or null after writing the status that says why there is none yet:
    // the pod was just created or still runs (its change reconciles the model again), or it failed (not retried until
    // the source or image, and so the pod's name, changes).
    private async Task<ModelConfig?> ReadConfigAsync(DeepSeekModel model, CancellationToken cancellationToken)
    {
        var desired = ModelConfigReader.Pod(model, settings);
        var (name, ns, uid) = (desired.Metadata.Name, desired.Metadata.NamespaceProperty, model.Metadata.Uid);
        if (configs.TryGetValue(uid, out var cached) && cached.Pod == name)
        {
            return cached.Config;
        }

        if (caches.ConfigReaders.Get(new ObjectKey(ns, name)) is not { } pod)
        {
            await DeleteEarlierReadersAsync(model, name, cancellationToken).ConfigureAwait(false);
            await client.CoreV1.CreateNamespacedPodAsync(desired, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            ReconcileLog.Created(logger, desired.Kind, ns + "/" + name);
            await events.RecordAsync(model, EventRecorder.Normal, ReadingModelConfig, $"Created pod {name} to read the model's config.json", cancellationToken).ConfigureAwait(false);
            await ReadingAsync(model, name, cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (pod.Metadata.OwnerReferences?.FirstOrDefault(owner => owner.Controller == true) is not { } controller || controller.Uid != uid)
        {
            await NotServableAsync(model, ModelPhase.Failed, ModelConfigUnavailable,
                $"spec.model.source: pod {name}, which would read the model's config.json, exists and is not controlled by this model.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        switch (pod.Status?.Phase)
        {
            case "Succeeded":
                try
                {
                    var config = ModelConfigReader.Read(pod);
                    configs[uid] = (name, config);
                    return config;
                }
                catch (ModelConfigException exception)
                {
                    await NotServableAsync(model, ModelPhase.Failed, ModelConfigUnavailable, "spec.model.source: " + exception.Message, cancellationToken).ConfigureAwait(false);
                    return null;
                }

            case "Failed":
                var why = ModelConfigReader.Message(pod) ?? pod.Status.Message ?? pod.Status.Reason ?? "it failed without a message";
                await NotServableAsync(model, ModelPhase.Failed, ModelConfigUnavailable,
                    $"spec.model.source: pod {name} could not read the model's config.json: {why.TrimEnd()}", cancellationToken).ConfigureAwait(false);
                return null;

            default:
                await ReadingAsync(model, name, cancellationToken).ConfigureAwait(false);
                return null;
        }
    }

    private async Task ReadingAsync(DeepSeekModel model, string pod, CancellationToken cancellationToken)
    {
        var generation = model.Metadata.Generation ?? 0;
        await WriteStatusAsync(ObjectKey.Of(model), current => ModelStatus.Reading(current, generation, ReadingModelConfig,
            $"Pod {pod} is reading the model's config.json.", Now()), cancellationToken).ConfigureAwait(false);
    }

    // The model's reader pods of an earlier source or image: their result no longer describes the model.
    private async Task DeleteEarlierReadersAsync(DeepSeekModel model, string current, CancellationToken cancellationToken)
    {
        var ns = model.Metadata.NamespaceProperty;
        foreach (var pod in caches.ConfigReaders.ListByOwner(model.Metadata.Uid))
        {
            if (pod.Metadata.Name == current || pod.Metadata.OwnerReferences?.Any(owner => owner.Controller == true && owner.Uid == model.Metadata.Uid) != true)
            {
                continue;
            }

            try
            {
                await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                ReconcileLog.Deleted(logger, "Pod", ns + "/" + pod.Metadata.Name);
            }
            catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.NotFound)
            {
                // Already gone.
            }
        }
    }

    // Deletes the cached objects of one kind that the model controls and no longer wants (the shards beyond a reduced
    // shard count); one already gone is fine.
    private async Task PruneAsync<T>(
        DeepSeekModel model, Informer<T> cache, string kind, HashSet<string> keep, Func<string, string, CancellationToken, Task> delete, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var unwanted = cache.ListByOwner(model.Metadata.Uid)
            .Where(child => child.Metadata.DeletionTimestamp is null
                && child.Metadata.OwnerReferences?.Any(owner => owner.Controller == true && owner.Uid == model.Metadata.Uid) == true
                && !keep.Contains(kind + "/" + child.Metadata.Name));
        foreach (var child in unwanted)
        {
            var (name, ns) = (child.Metadata.Name, child.Metadata.NamespaceProperty);
            try
            {
                await delete(name, ns, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.NotFound)
            {
                continue;
            }

            ReconcileLog.Pruned(logger, kind, ns + "/" + name);
            await events.RecordAsync(model, EventRecorder.Normal, "Deleted", $"Deleted {kind} {name}: the spec no longer has it", cancellationToken).ConfigureAwait(false);
        }
    }

    // Creates the child, or writes the fields the operator owns where they differ; null when another controller owns it.
    // Returns the live object, except for a child other than a Deployment that is unchanged since it last matched: then
    // the desired one, since only the Deployments' live state (their status) is read afterwards.
    private async Task<IKubernetesObject<V1ObjectMeta>?> ApplyAsync(DeepSeekModel model, IKubernetesObject<V1ObjectMeta> desired, ChildWrites writes, CancellationToken cancellationToken)
    {
        var name = desired.Metadata.NamespaceProperty + "/" + desired.Metadata.Name;
        var (key, child) = (ObjectKey.Of(model), desired.Kind + "/" + desired.Metadata.Name);
        // The ServiceMonitor is not cached (its CRD may be missing). A cache behind the server shows up as a conflict on
        // the write (a create of a child that exists, a replace of an older resourceVersion), retried after a backoff.
        var cached = desired is not ServiceMonitor;
        var hash = cached ? AppliedChildren.Hash(desired) : default;
        if (cached && matched.Matches(key, child, caches.ResourceVersionOf(desired), hash))
        {
            if (desired is not V1Deployment)
            {
                return desired;
            }

            if (caches.Get(desired) is { } deployment)
            {
                return deployment;
            }
        }

        var live = cached ? caches.Get(desired) : await children.ReadAsync(desired, cancellationToken).ConfigureAwait(false);
        if (live is null)
        {
            var created = await children.CreateAsync(desired, cancellationToken).ConfigureAwait(false);
            ReconcileLog.Created(logger, desired.Kind, name);
            writes.Created(desired.Kind, desired.Metadata.Name);
            Matched(created);
            return created;
        }

        if (live.Metadata.OwnerReferences?.FirstOrDefault(owner => owner.Controller == true) is { } controller && controller.Uid != model.Metadata.Uid)
        {
            await events.RecordAsync(model, EventRecorder.Warning, "OwnedElsewhere",
                $"{desired.Kind} {desired.Metadata.Name} exists and is controlled by {controller.Kind} {controller.Name}", cancellationToken).ConfigureAwait(false);
            return null;
        }

        if (OwnedFields.Match(desired, live))
        {
            Matched(live);
            return live;
        }

        var updated = await children.ReplaceAsync(desired, OwnedFields.Merge(desired, live), cancellationToken).ConfigureAwait(false);
        ReconcileLog.Updated(logger, desired.Kind, name);
        writes.Updated(desired.Kind, desired.Metadata.Name);
        Matched(updated);
        return updated;

        void Matched(IKubernetesObject<V1ObjectMeta> result)
        {
            if (cached)
            {
                matched.Record(key, child, result.Metadata.ResourceVersion, hash);
            }
        }
    }

    // Ready=False with the reason, a Warning Event when that is news, and no retry: the spec or a resync brings the model back.
    private async Task<ReconcileResult> NotServableAsync(DeepSeekModel model, ModelPhase phase, string reason, string message, CancellationToken cancellationToken)
    {
        var key = ObjectKey.Of(model);
        var generation = model.Metadata.Generation ?? 0;
        var changed = await WriteStatusAsync(key, current => ModelStatus.NotServable(current, generation, phase, reason, message, Now()), cancellationToken).ConfigureAwait(false);
        if (changed)
        {
            ReconcileLog.NotServable(logger, key.ToString(), reason, message);
            await events.RecordAsync(model, EventRecorder.Warning, reason, message, cancellationToken).ConfigureAwait(false);
        }

        return ReconcileResult.Done;
    }

    /// <summary>
    /// Whether <paramref name="updated"/> differs from <paramref name="old"/> only by this reconciler's own status
    /// write: it needs no reconcile, since the status was computed from the children as they were, and a change of
    /// theirs queues the model on its own.
    /// </summary>
    public bool IsOwnStatusUpdate(DeepSeekModel old, DeepSeekModel updated)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(updated);
        var (before, after) = (old.Metadata, updated.Metadata);
        return statusWriter.IsOwnWrite(updated)
            && before.Generation == after.Generation
            && before.DeletionTimestamp == after.DeletionTimestamp
            && SameEntries(before.Labels, after.Labels)
            && SameEntries(before.Annotations, after.Annotations)
            && (before.Finalizers ?? []).SequenceEqual(after.Finalizers ?? []);

        static bool SameEntries(IDictionary<string, string>? x, IDictionary<string, string>? y) =>
            (x?.Count ?? 0) == (y?.Count ?? 0) && (x is null || x.All(entry => y!.TryGetValue(entry.Key, out var value) && value == entry.Value));
    }

    private Task<bool> WriteStatusAsync(ObjectKey key, Func<DeepSeekModelStatus?, DeepSeekModelStatus> compute, CancellationToken cancellationToken) =>
        statusWriter.WriteAsync(key, compute, cancellationToken);

    // Conditions carry whole seconds, as the API server stores them.
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
    }
}
