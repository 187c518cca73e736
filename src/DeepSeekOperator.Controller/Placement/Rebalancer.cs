using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using DeepSeekOperator.Api.Schema;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Router;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>
/// Rebalances the experts of every model with <c>placement.strategy: Balanced</c>. Every <c>rebalanceInterval</c>, once
/// the model is Ready, it reads <c>/v1/expert-load</c> from each ready router pod, plans a placement
/// (<see cref="PlacementPlanner"/>) and publishes it as the next revision when it lowers the imbalance by more than
/// <c>minImbalance</c>. The rollout goes shard by shard through the placement ConfigMaps (<see cref="PublishedPlacement"/>):
/// shard 0's first; shard k's once every router's <c>/v1/placement</c> shows shard k−1's replicas serving the
/// revision; the routers' last, once every shard serves it. The rollout's progress is the ConfigMaps themselves, so a
/// new leader carries it on. A shard that does not serve the revision within
/// <see cref="RebalancerOptions.ShardTimeout"/> is a Warning Event, and is looked at again a rebalance interval later.
/// Load that cannot be read (no ready router, a router unreachable, an answer refused) changes nothing: a Warning Event
/// names the router and the field. Recorded in <c>status.placement</c>, the <c>PlacementBalanced</c> condition, a
/// <c>PlacementPublished</c> Event and the gauge <c>dsop_placement_imbalance_ratio{namespace,model}</c>.
/// </summary>
public sealed class Rebalancer : IReconciler
{
    /// <summary>The condition reason of a placement within <c>minImbalance</c> of the best one found.</summary>
    public const string Balanced = "Balanced";

    /// <summary>The condition reason of a better placement whose rollout stalled on a shard.</summary>
    public const string Imbalanced = "Imbalanced";

    /// <summary>The condition reason while a new revision rolls out.</summary>
    public const string RollingOut = "RollingOut";

    /// <summary>The condition reason, and Warning reason, of load that could not be read.</summary>
    public const string LoadUnavailable = "LoadUnavailable";

    /// <summary>The Event reason of a revision every router switched to.</summary>
    public const string PlacementPublished = "PlacementPublished";

    /// <summary>The Warning reason of a shard that did not serve the new revision in time.</summary>
    public const string RolloutStalled = "PlacementRolloutStalled";

    /// <summary>The annotation of shard 0's placement ConfigMap holding the imbalance the rolling-out revision replaces.</summary>
    public const string ImbalanceBeforeAnnotation = "moe.deepseek-operator.io/imbalance-before";

    /// <summary>The annotation of shard 0's placement ConfigMap holding the imbalance the rolling-out revision was planned to reach.</summary>
    public const string ImbalanceAfterAnnotation = "moe.deepseek-operator.io/imbalance-after";

    private const int StatusAttempts = 5;

    private readonly Informer<DeepSeekModel> models;
    private readonly Informer<V1Pod> routerPods;
    private readonly Kubernetes client;
    private readonly HttpClient http;
    private readonly EventRecorder events;
    private readonly RebalancerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger<Rebalancer> logger;
    private readonly Gauge imbalance;

    // When each model is next planned, and since when the rollout waits on a shard.
    private readonly ConcurrentDictionary<ObjectKey, DateTimeOffset> due = new();
    private readonly ConcurrentDictionary<ObjectKey, ShardWait> waits = new();

    /// <summary>Creates the rebalancer over the caches of models and router pods.</summary>
    /// <param name="models">The models' cache.</param>
    /// <param name="routerPods">A cache of the operator's router pods (label <c>app.kubernetes.io/component=router</c>).</param>
    /// <param name="client">The client the placement ConfigMaps, status and reader pods are read and written with.</param>
    /// <param name="http">The client routers are asked with.</param>
    /// <param name="events">Where Events about the model go.</param>
    /// <param name="registry">The registry of <c>dsop_placement_imbalance_ratio</c>.</param>
    /// <param name="options">Timeouts and the clock.</param>
    /// <param name="logger">The rebalancer's log.</param>
    public Rebalancer(
        Informer<DeepSeekModel> models, Informer<V1Pod> routerPods, Kubernetes client, HttpClient http, EventRecorder events, CollectorRegistry registry, RebalancerOptions options, ILogger<Rebalancer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        (this.models, this.routerPods, this.client, this.http, this.events, this.options, this.logger) = (models, routerPods, client, http, events, options, logger);
        time = options.Time;
        imbalance = Metrics.WithCustomRegistry(registry).CreateGauge(
            "dsop_placement_imbalance_ratio", "Max over mean shard load of the model's placement under the routers' last expert load (1 is balanced).", "namespace", "model");
    }

    /// <inheritdoc />
    public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var model = models.Get(key);
        if (model is null || model.Spec.Placement.Strategy != PlacementStrategy.Balanced)
        {
            due.TryRemove(key, out _);
            waits.TryRemove(key, out _);
            imbalance.RemoveLabelled(key.Namespace, key.Name);
            return ReconcileResult.Done;
        }

        var interval = GoDuration.Parse(model.Spec.Placement.RebalanceInterval);
        if (await ConfigAsync(model, cancellationToken).ConfigureAwait(false) is not { } config)
        {
            return ReconcileResult.Requeue(interval);
        }

        var shards = model.Spec.Experts.Shards;
        var slots = PlacementGenerator.MinimumSlotsPerShard(config.NRoutedExperts, shards) + model.Spec.Experts.RedundantSlots;
        Dictionary<string, V1ConfigMap> configMaps;
        PublishedPlacement published;
        try
        {
            var selector = $"{ChildLabels.InstanceKey}={key.Name},{ChildLabels.ComponentKey}={ChildLabels.Placement}";
            var list = await client.CoreV1.ListNamespacedConfigMapAsync(key.Namespace, labelSelector: selector, cancellationToken: cancellationToken).ConfigureAwait(false);
            configMaps = list.Items.ToDictionary(configMap => configMap.Metadata.Name, StringComparer.Ordinal);
            published = PublishedPlacement.Read(configMaps.GetValueOrDefault, config, key.Name, shards, slots);
        }
        catch (PlacementException)
        {
            // The reconciler has yet to write the placement of the spec as it is now.
            return ReconcileResult.Requeue(options.PollInterval);
        }

        try
        {
            if (published.Revision > published.Routers.Revision)
            {
                return await RollOutAsync(model, configMaps, published, interval, cancellationToken).ConfigureAwait(false);
            }

            var now = time.GetUtcNow();
            if (due.TryGetValue(key, out var at) && now < at)
            {
                return ReconcileResult.Requeue(at - now);
            }

            if (model.Status?.Phase != ModelPhase.Ready)
            {
                return ReconcileResult.Requeue(interval);
            }

            due[key] = now + interval;
            return await PlanAsync(model, config, configMaps, published, slots, cancellationToken).ConfigureAwait(false)
                ? ReconcileResult.Requeue(options.PollInterval)
                : ReconcileResult.Requeue(interval);
        }
        catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // A ConfigMap changed since it was read (the reconciler followed a new spec): read them again after a backoff.
            RebalancerLog.Conflict(logger, key.ToString());
            return ReconcileResult.Failed("Conflict: " + exception.Response.Content);
        }
    }

    // Reads the load, and starts a rollout of the planned placement when it is enough better; whether it did.
    private async Task<bool> PlanAsync(DeepSeekModel model, ModelConfig config, Dictionary<string, V1ConfigMap> configMaps, PublishedPlacement published, int slots, CancellationToken cancellationToken)
    {
        var (name, ns) = (model.Metadata.Name, model.Metadata.NamespaceProperty);
        ExpertLoad load;
        double current, after;
        ExpertPlacement planned;
        try
        {
            var reports = new Dictionary<string, ExpertLoadReport>(StringComparer.Ordinal);
            foreach (var (router, body) in await AskRoutersAsync(model, "/v1/expert-load", cancellationToken).ConfigureAwait(false))
            {
                reports[router] = ExpertLoadReport.Parse(router, body);
            }

            load = ExpertLoad.FromRouters(name, config.NRoutedExperts, reports);
            if (load.Layers.All(layer => load.ForLayer(layer).All(tokens => tokens == 0)))
            {
                throw new ExpertLoadException($"the routers ({string.Join(", ", reports.Keys)}) have routed no tokens yet");
            }

            current = PlacementPlanner.Imbalance(published.Routers, load);
            planned = PlacementPlanner.Plan(config, load, name, published.Revision + 1, published.Routers.Shards, slots, model.Spec.Placement.ShardsPerNode);
            after = PlacementPlanner.Imbalance(planned, load);
        }
        catch (Exception exception) when (exception is ExpertLoadException or ArgumentException)
        {
            RebalancerLog.LoadUnavailable(logger, ns + "/" + name, exception.Message);
            await events.RecordAsync(model, EventRecorder.Warning, LoadUnavailable, exception.Message, cancellationToken).ConfigureAwait(false);
            await WriteStatusAsync(model, status => status, "False", LoadUnavailable, "No placement change: " + exception.Message, cancellationToken).ConfigureAwait(false);
            return false;
        }

        imbalance.WithLabels(ns, name).Set(current);
        var minimum = model.Spec.Placement.MinImbalance;
        if (current / after <= minimum)
        {
            await WriteStatusAsync(
                model,
                status => status with { Placement = Recorded(status, model, published.Routers.Revision) with { Imbalance = Rounded(current) } },
                "True",
                Balanced,
                $"Imbalance {Ratio(current)} (max/mean shard load) at revision {published.Routers.Revision}; the best placement found would reach {Ratio(after)}, {Ratio(current / after)} times lower, not more than minImbalance {Ratio(minimum)}.",
                cancellationToken).ConfigureAwait(false);
            return false;
        }

        var first = configMaps[PublishedPlacement.ShardConfigMap(name, 0)];
        first.Metadata.Annotations ??= new Dictionary<string, string>();
        first.Metadata.Annotations[ImbalanceBeforeAnnotation] = current.ToString("R", CultureInfo.InvariantCulture);
        first.Metadata.Annotations[ImbalanceAfterAnnotation] = after.ToString("R", CultureInfo.InvariantCulture);
        await WriteAsync(first, planned, cancellationToken).ConfigureAwait(false);
        waits[ObjectKey.Of(model)] = new ShardWait(planned.Revision, 0, time.GetUtcNow());
        RebalancerLog.RolloutStarted(logger, ns + "/" + name, planned.Revision, current, after);
        await WriteStatusAsync(
            model, status => status, "False", RollingOut,
            $"Rolling out revision {planned.Revision} (imbalance {Ratio(current)} → {Ratio(after)}): shard 0 of {planned.Shards} loads it.", cancellationToken).ConfigureAwait(false);
        return true;
    }

    // One step of the rollout of the newest revision: the next shard's key once the last one serves it, the routers' key last.
    private async Task<ReconcileResult> RollOutAsync(DeepSeekModel model, Dictionary<string, V1ConfigMap> configMaps, PublishedPlacement published, TimeSpan interval, CancellationToken cancellationToken)
    {
        var key = ObjectKey.Of(model);
        var revision = published.Revision;
        var placement = published.Shards.First(shard => shard.Revision == revision);
        var shards = published.Shards.Count;
        var next = Enumerable.Range(0, shards).FirstOrDefault(k => published.Shards[k].Revision != revision, shards);
        var first = configMaps[PublishedPlacement.ShardConfigMap(key.Name, 0)];
        var before = Annotation(first, ImbalanceBeforeAnnotation);
        var after = Annotation(first, ImbalanceAfterAnnotation);
        var change = $"revision {revision} (imbalance {Ratio(before)} → {Ratio(after)})";
        if (next > 0)
        {
            string? waiting;
            try
            {
                var states = new List<(string Router, RouterPlacementState State)>();
                foreach (var (router, body) in await AskRoutersAsync(model, "/v1/placement", cancellationToken).ConfigureAwait(false))
                {
                    states.Add((router, RouterPlacementReport.Parse(router, body, model.Metadata.Name, shards)));
                }

                waiting = (next == shards ? Enumerable.Range(0, shards) : [next - 1]).Select(k => NotServing(states, k, revision)).FirstOrDefault(why => why is not null);
            }
            catch (ExpertLoadException exception)
            {
                waiting = exception.Message;
            }

            if (waiting is not null)
            {
                return await WaitForShardAsync(model, key, revision, next - 1, change, waiting, interval, cancellationToken).ConfigureAwait(false);
            }
        }

        var now = time.GetUtcNow();
        if (next < shards)
        {
            await WriteAsync(configMaps[PublishedPlacement.ShardConfigMap(key.Name, next)], placement, cancellationToken).ConfigureAwait(false);
            waits[key] = new ShardWait(revision, next, now);
            RebalancerLog.ShardGiven(logger, key.ToString(), revision, next);
            await WriteStatusAsync(
                model, status => status, "False", RollingOut,
                $"Rolling out {change}: shards 0 to {next - 1} serve it, shard {next} of {shards} loads it.", cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Requeue(options.PollInterval);
        }

        await WriteAsync(configMaps[PublishedPlacement.RoutersConfigMap(key.Name)], placement, cancellationToken).ConfigureAwait(false);
        waits.TryRemove(key, out _);
        due[key] = now + interval;
        if (after is { } reached)
        {
            imbalance.WithLabels(key.Namespace, key.Name).Set(reached);
        }

        RebalancerLog.Published(logger, key.ToString(), revision);
        await WriteStatusAsync(
            model,
            status => status with { Placement = Recorded(status, model, revision) with { Imbalance = Rounded(after), ImbalanceBefore = Rounded(before) } },
            "True",
            Balanced,
            $"Imbalance {Ratio(after)} (max/mean shard load) at revision {revision}, down from {Ratio(before)}.",
            cancellationToken).ConfigureAwait(false);
        await events.RecordAsync(model, EventRecorder.Normal, PlacementPublished, $"Published placement {change}: every shard serves it and the routers switch to it", cancellationToken).ConfigureAwait(false);
        return ReconcileResult.Requeue(interval);
    }

    // The last shard given the revision (or, at the end, some shard) does not serve it yet: poll again, or warn once the wait is too long.
    private async Task<ReconcileResult> WaitForShardAsync(
        DeepSeekModel model, ObjectKey key, long revision, int shard, string change, string waiting, TimeSpan interval, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var wait = waits.AddOrUpdate(key, _ => new ShardWait(revision, shard, now), (_, old) => old.Revision == revision && old.Shard == shard ? old : new ShardWait(revision, shard, now));
        if (now - wait.Since < options.ShardTimeout)
        {
            await WriteStatusAsync(
                model, status => status, "False", RollingOut, $"Rolling out {change}: waiting for shard {shard}: {waiting}", cancellationToken).ConfigureAwait(false);
            return ReconcileResult.Requeue(options.PollInterval);
        }

        var message = $"Placement {change} stalled: shard {shard} has not served it within {options.ShardTimeout}: {waiting}. Retrying in {interval}.";
        waits[key] = new ShardWait(revision, shard, now);
        RebalancerLog.Stalled(logger, key.ToString(), message);
        await events.RecordAsync(model, EventRecorder.Warning, RolloutStalled, message, cancellationToken).ConfigureAwait(false);
        await WriteStatusAsync(model, status => status, "False", Imbalanced, message, cancellationToken).ConfigureAwait(false);
        return ReconcileResult.Requeue(interval);
    }

    // Why some router does not show shard k serving the revision on every reachable replica it knows (at least one); null when all do.
    private static string? NotServing(List<(string Router, RouterPlacementState State)> states, int shard, long revision)
    {
        foreach (var (router, state) in states)
        {
            var reachable = state.Shards[shard].Replicas.Where(replica => replica.Reachable).ToList();
            if (reachable.Count == 0)
            {
                return $"router {router} knows no reachable replica of shard {shard}";
            }

            if (reachable.FirstOrDefault(replica => !replica.Revisions.Contains(revision)) is { } behind)
            {
                return $"router {router}: replica {behind.Endpoint} of shard {shard} serves revisions [{string.Join(", ", behind.Revisions)}]";
            }
        }

        return null;
    }

    // GET path from every ready router pod of the model, in name order.
    private async Task<List<(string Router, string Body)>> AskRoutersAsync(DeepSeekModel model, string path, CancellationToken cancellationToken)
    {
        var pods = routerPods.List()
            .Where(pod => pod.Metadata.NamespaceProperty == model.Metadata.NamespaceProperty
                && pod.Metadata.Labels?.TryGetValue(ChildLabels.InstanceKey, out var instance) == true && instance == model.Metadata.Name
                && pod.Metadata.DeletionTimestamp is null
                && !string.IsNullOrEmpty(pod.Status?.PodIP)
                && pod.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .OrderBy(pod => pod.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        if (pods.Count == 0)
        {
            throw new ExpertLoadException("no router pod is ready");
        }

        var answers = new List<(string, string)>();
        foreach (var pod in pods)
        {
            var ip = pod.Status.PodIP;
            var url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{(ip.Contains(':', StringComparison.Ordinal) ? $"[{ip}]" : ip)}:{model.Spec.Serving.Port}{path}"));
            using var timeout = new CancellationTokenSource(options.RouterTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                using var response = await http.GetAsync(url, linked.Token).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(linked.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw new ExpertLoadException($"router {pod.Metadata.Name}: GET {url} answered {(int)response.StatusCode}: {body}");
                }

                answers.Add((pod.Metadata.Name, body));
            }
            catch (Exception exception) when (exception is HttpRequestException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                throw new ExpertLoadException($"router {pod.Metadata.Name}: GET {url} failed: {exception.Message}", exception);
            }
        }

        return answers;
    }

    // The model's architecture: a preset's, or what its succeeded config.json reader pod reported; null when not known yet.
    private async Task<ModelConfig?> ConfigAsync(DeepSeekModel model, CancellationToken cancellationToken)
    {
        if (ModelChildren.PresetConfig(model.Spec.Model.Source) is { } preset)
        {
            return preset;
        }

        try
        {
            var pod = await client.CoreV1.ReadNamespacedPodAsync(
                ModelConfigReader.PodName(model, options.Settings), model.Metadata.NamespaceProperty, cancellationToken: cancellationToken).ConfigureAwait(false);
            return pod.Status?.Phase == "Succeeded" ? ModelConfigReader.Read(pod) : null;
        }
        catch (Exception exception) when (exception is ModelConfigException || exception is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound })
        {
            // The reconciler reports why (ModelConfigUnavailable); the model is not Ready until it is known.
            return null;
        }
    }

    // Sets PlacementBalanced (and what change gives) on the fresh status unless nothing changes; a conflict is retried.
    private async Task WriteStatusAsync(
        DeepSeekModel model, Func<DeepSeekModelStatus, DeepSeekModelStatus> change, string status, string reason, string message, CancellationToken cancellationToken)
    {
        var (ns, name) = (model.Metadata.NamespaceProperty, model.Metadata.Name);
        for (var attempt = 1; ; attempt++)
        {
            DeepSeekModel fresh;
            try
            {
                var read = await client.CustomObjects.GetNamespacedCustomObjectAsync(
                    DeepSeekModel.Group, DeepSeekModel.Version, ns, DeepSeekModel.Plural, name, cancellationToken).ConfigureAwait(false);
                fresh = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(read));
            }
            catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return;
            }

            var old = fresh.Status ?? new DeepSeekModelStatus();
            var updated = change(old);
            var previous = old.Conditions?.FirstOrDefault(c => c.Type == ConditionTypes.PlacementBalanced);
            var condition = new V1Condition
            {
                Type = ConditionTypes.PlacementBalanced,
                Status = status,
                Reason = reason,
                Message = message,
                ObservedGeneration = fresh.Metadata.Generation,
                LastTransitionTime = previous?.Status == status ? previous.LastTransitionTime : Now(),
            };
            updated = updated with { Conditions = [.. (old.Conditions ?? []).Where(c => c.Type != ConditionTypes.PlacementBalanced), condition] };
            if (KubernetesJson.Serialize(updated) == KubernetesJson.Serialize(old) && fresh.Status is not null)
            {
                return;
            }

            fresh.Status = updated;
            try
            {
                await client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(
                    fresh, DeepSeekModel.Group, DeepSeekModel.Version, ns, DeepSeekModel.Plural, name, cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.Conflict && attempt < StatusAttempts)
            {
                RebalancerLog.Conflict(logger, ns + "/" + name);
            }
        }
    }

    // Replaces a placement ConfigMap's placement; a conflict (the reconciler wrote it meanwhile) fails the reconcile.
    private Task<V1ConfigMap> WriteAsync(V1ConfigMap configMap, ExpertPlacement placement, CancellationToken cancellationToken)
    {
        configMap.Data = PublishedPlacement.Data(placement);
        return client.CoreV1.ReplaceNamespacedConfigMapAsync(configMap, configMap.Metadata.Name, configMap.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
    }

    private static PlacementStatus Recorded(DeepSeekModelStatus status, DeepSeekModel model, long revision) =>
        status.Placement?.Revision == revision
            ? status.Placement with { ConfigMap = ModelChildren.PlacementConfigMapName(model) }
            : new PlacementStatus { ConfigMap = ModelChildren.PlacementConfigMapName(model), Revision = revision };

    private static double? Annotation(V1ConfigMap configMap, string key) =>
        configMap.Metadata.Annotations?.TryGetValue(key, out var text) == true
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;


    private static string Ratio(double? value) => value is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "unknown";

    // Conditions carry whole seconds, as the API server stores them.
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));
    }

    private sealed record ShardWait(long Revision, int Shard, DateTimeOffset Since);

    // A ratio as the status records it: three decimals, as much as kubectl's column and a decision need.
    private static double? Rounded(double? ratio) => ratio is { } value ? Math.Round(value, 3) : null;
}
