using System.Collections.Concurrent;
using System.Globalization;
using DeepSeekOperator.Api.Schema;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Prometheus;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Reconciling.Internal;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Autoscaling.Internal;

/// <summary>
/// One autoscaling pass per model and interval: reads each component's load from Prometheus, decides with a
/// <see cref="ReplicaCalculator"/> per model, writes the status first (so that the DeepSeekModel reconciler, which
/// creates Deployments with the last decision, agrees), then the Deployments' scale, then the Events and gauges; and
/// asks to be called again after the interval. A call before the interval has passed since the last pass (a spec
/// change) only waits for the rest of it, so that the cadence, and with it the stabilization windows, hold.
/// </summary>
internal sealed class AutoscalerReconciler(
    Informer<DeepSeekModel> models,
    Informer<V1Deployment> deployments,
    Kubernetes client,
    PrometheusClients prometheus,
    EventRecorder events,
    AutoscalerGauges gauges,
    TimeProvider time,
    ILogger logger) : IReconciler
{
    /// <summary>The ScalingLimited reason when a component's load could not be read.</summary>
    public const string MetricsUnavailable = "MetricsUnavailable";

    /// <summary>The reason of the Event of a component that starts being held back for a new reason.</summary>
    public const string ScalingLimited = "ScalingLimited";

    private readonly ConcurrentDictionary<ObjectKey, ModelState> states = new();
    private readonly StatusWriter statusWriter = new(client, logger);

    public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var model = models.Get(key);
        if (model is null || !model.Spec.Autoscaling.Enabled || model.Metadata.DeletionTimestamp is not null)
        {
            Forget(key);
            if (model?.Status is { } status && (status.Autoscaling is not null || status.Conditions?.Any(c => c.Type == ConditionTypes.ScalingLimited) == true))
            {
                // Turned off: the last decisions no longer say anything, and a re-enabled autoscaler starts afresh.
                await statusWriter.WriteAsync(key, current => (current ?? new DeepSeekModelStatus()) with
                {
                    Autoscaling = null,
                    Conditions = current?.Conditions?.Where(c => c.Type != ConditionTypes.ScalingLimited).ToList(),
                }, cancellationToken).ConfigureAwait(false);
            }

            return ReconcileResult.Done;
        }

        var spec = model.Spec.Autoscaling;
        if (!GoDuration.TryParse(spec.Interval, out var interval) || interval <= TimeSpan.Zero)
        {
            return ReconcileResult.Failed($"spec.autoscaling.interval \"{spec.Interval}\" is not a positive duration");
        }

        if (spec.PrometheusUrl is not { } url)
        {
            return ReconcileResult.Failed("spec.autoscaling.prometheusUrl is required when autoscaling is enabled");
        }

        var state = states.GetOrAdd(key, _ => new ModelState(new ReplicaCalculator(time)));
        var now = time.GetUtcNow();
        if (state.LastPass is { } last && now - last < interval)
        {
            return ReconcileResult.Requeue(interval - (now - last));
        }

        state.LastPass = now;
        var client = prometheus.For(url);
        var passes = new List<ComponentPass>();
        if (await PassAsync(model, state, "router", null, RouterName(key.Name), spec.Routers, MetricName(spec.Routers.Target), spec, client, interval, cancellationToken).ConfigureAwait(false) is { } router)
        {
            passes.Add(router);
        }

        for (var k = 0; k < model.Spec.Experts.Shards; k++)
        {
            var component = string.Create(CultureInfo.InvariantCulture, $"shard-{k}");
            if (await PassAsync(model, state, component, k, $"{key.Name}-{component}", spec.Shards, MetricName(spec.Shards.Target), spec, client, interval, cancellationToken).ConfigureAwait(false) is { } shard)
            {
                passes.Add(shard);
            }
        }

        if (passes.Count == 0)
        {
            // No Deployment to scale yet: the reconciler is creating them.
            return ReconcileResult.Requeue(interval);
        }

        var changes = passes.Where(pass => pass.Desired != pass.Current).ToList();
        await WriteStatusAsync(key, model.Metadata.Generation ?? 0, passes, changes.Count > 0, now, cancellationToken).ConfigureAwait(false);
        foreach (var change in changes)
        {
            await ScaleAsync(key, change, cancellationToken).ConfigureAwait(false);
            var reason = change.Desired > change.Current ? "ScaledUp" : "ScaledDown";
            AutoscalerLog.Scaled(logger, key.ToString(), change.Component, change.ChangeMessage);
            await events.RecordAsync(model, EventRecorder.Normal, reason, change.ChangeMessage, cancellationToken).ConfigureAwait(false);
        }

        foreach (var pass in passes)
        {
            await ReportFailureAsync(model, state, pass, cancellationToken).ConfigureAwait(false);
            await ReportLimitAsync(model, state, pass, cancellationToken).ConfigureAwait(false);
            gauges.Set(key, pass);
        }

        gauges.Keep(key, passes.Select(pass => pass.Component));

        // The next pass one interval after this one began, as the HPA's sync period counts: the time this pass took
        // (its queries, its writes) must not push every later pass back.
        var spent = time.GetUtcNow() - now;
        return ReconcileResult.Requeue(spent < interval ? interval - spent : TimeSpan.Zero);
    }

    private static string RouterName(string model) => $"{model}-router";

    private static string MetricName<TMetric>(ScalingTarget<TMetric> target)
        where TMetric : struct, Enum =>
        target.Query is not null ? "query" : KubernetesJson.Serialize(target.Metric).Trim('"');

    // Null when there is nothing to scale: the Deployment does not exist yet, or it was scaled to zero by hand, which
    // pauses its autoscaling as it pauses a HorizontalPodAutoscaler's.
    private async Task<ComponentPass?> PassAsync<TMetric>(
        DeepSeekModel model, ModelState state, string component, int? shard, string deployment, ComponentAutoscaling<TMetric> scaling, string metric, AutoscalingSpec spec, PrometheusClient client, TimeSpan interval, CancellationToken cancellationToken)
        where TMetric : struct, Enum
    {
        var ns = model.Metadata.NamespaceProperty;
        if (deployments.Get(new ObjectKey(ns, deployment)) is not { } live || (live.Spec.Replicas ?? 1) <= 0)
        {
            return null;
        }

        var current = live.Spec.Replicas ?? 1;
        var query = Query(scaling.Target, ns, model.Metadata.Name, shard);
        var pass = new ComponentPass(component, shard, deployment, metric, scaling.Target.AverageValue, scaling.MinReplicas, scaling.MaxReplicas, current, null, null, null);
        double total;
        try
        {
            total = await TotalAsync(client, query, interval, cancellationToken).ConfigureAwait(false);
        }
        catch (PrometheusQueryException exception)
        {
            // As a HorizontalPodAutoscaler does, bounds hold even without a metric: a count outside them (the bounds
            // were changed, or the Deployment scaled by hand) is brought back to the nearest one.
            return pass with { Error = exception.Message, Bounded = Math.Clamp(current, scaling.MinReplicas, scaling.MaxReplicas) };
        }

        return pass with { Total = total, Decision = state.Calculator.Decide(component, current, total, scaling, spec.Behavior) };
    }

    private static string Query<TMetric>(ScalingTarget<TMetric> target, string ns, string model, int? shard)
        where TMetric : struct, Enum => (target.Query, target.Metric, shard) switch
        {
            ({ } query, _, _) => MetricQueries.Expand(query, ns, model, shard),
            (null, RouterMetric router, null) => MetricQueries.Router(router, ns, model),
            (null, ShardMetric metric, { } k) => MetricQueries.Shard(metric, ns, model, k),
            _ => throw new ArgumentOutOfRangeException(nameof(target), target.Metric, "not a metric of this component"),
        };

    // The component's total: a scalar, or a vector of exactly one sample, finite and not negative.
    private async Task<double> TotalAsync(PrometheusClient client, string query, TimeSpan interval, CancellationToken cancellationToken)
    {
        var timeout = interval < prometheus.Timeout ? interval : prometheus.Timeout;
        var result = await client.QueryAsync(query, timeout: timeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        var value = result switch
        {
            PrometheusScalar scalar => scalar.Value,
            PrometheusVector { Samples: [var sample] } => sample.Value,
            PrometheusVector { Samples: [] } => throw new PrometheusQueryException(
                PrometheusFailure.UnexpectedResultType, client.Server, query, "the result is empty: no series matched (are the pods scraped?)"),
            PrometheusVector vector => throw new PrometheusQueryException(
                PrometheusFailure.UnexpectedResultType, client.Server, query, $"the result has {vector.Samples.Count} series; the query must sum them into one"),
            _ => throw new PrometheusQueryException(PrometheusFailure.UnexpectedResultType, client.Server, query, "the result is neither a vector nor a scalar"),
        };
        return double.IsFinite(value) && value >= 0
            ? value
            : throw new PrometheusQueryException(
                PrometheusFailure.UnexpectedResultType, client.Server, query, $"the value is {value.ToString(CultureInfo.InvariantCulture)}, not a finite load of at least 0");
    }

    // The autoscaler's part of the status: status.autoscaling and the ScalingLimited condition.
    // The times recorded are the pass's: when the load a decision rests on was read.
    private async Task WriteStatusAsync(ObjectKey key, long generation, IReadOnlyList<ComponentPass> passes, bool scaled, DateTimeOffset passTime, CancellationToken cancellationToken)
    {
        var now = Seconds(passTime.UtcDateTime);
        await statusWriter.WriteAsync(key, current =>
        {
            var old = current ?? new DeepSeekModelStatus();
            return old with
            {
                Autoscaling = new AutoscalingStatus
                {
                    LastScaleTime = scaled ? now : old.Autoscaling?.LastScaleTime,
                    Routers = passes.FirstOrDefault(pass => pass.Shard is null)?.Status,
                    Shards = [.. passes.Where(pass => pass.Shard is not null).Select(pass => pass.ShardStatus)],
                },
                Conditions = WithCondition(old.Conditions, Limited(passes, generation), now),
            };
        }, cancellationToken).ConfigureAwait(false);
    }

    // ScalingLimited: True while a component has no metric (first) or is held at a bound or rate, else False.
    private static V1Condition Limited(IReadOnlyList<ComponentPass> passes, long generation)
    {
        var failed = passes.Where(pass => pass.Error is not null).ToList();
        var limited = passes.Where(pass => pass.LimitMessage is not null).ToList();
        var (status, reason, message) = (failed, limited) switch
        {
            ([_, ..], _) => ("True", MetricsUnavailable, string.Join("; ", failed.Select(pass => $"{pass.Name}: {pass.Error}")) + "; their replicas are left as they are, or only brought within their bounds."),
            (_, [var first, ..]) => ("True", first.Decision!.Limit.ToString(), string.Join("; ", limited.Select(pass => pass.LimitMessage)) + "."),
            _ => ("False", "DesiredWithinRange", "Every component's desired replica count is within its bounds and rates."),
        };
        return new V1Condition { Type = ConditionTypes.ScalingLimited, Status = status, Reason = reason, Message = message, ObservedGeneration = generation };
    }

    // The other conditions as they were; this one keeps its lastTransitionTime while its status holds.
    private static List<V1Condition> WithCondition(IList<V1Condition>? conditions, V1Condition condition, DateTime now)
    {
        var existing = conditions ?? [];
        var previous = existing.FirstOrDefault(c => c.Type == condition.Type);
        condition.LastTransitionTime = previous is not null && previous.Status == condition.Status ? previous.LastTransitionTime : now;
        return [.. existing.Where(c => c.Type != condition.Type), condition];
    }

    private async Task ScaleAsync(ObjectKey key, ComponentPass change, CancellationToken cancellationToken)
    {
        var patch = new V1Patch(new { spec = new { replicas = change.Desired } }, V1Patch.PatchType.MergePatch);
        await client.AppsV1.PatchNamespacedDeploymentScaleAsync(patch, change.Deployment, key.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    // A Warning Event at the start of a failure streak, none while it lasts.
    private async Task ReportFailureAsync(DeepSeekModel model, ModelState state, ComponentPass pass, CancellationToken cancellationToken)
    {
        if (pass.Error is null)
        {
            state.Failing.Remove(pass.Component);
            return;
        }

        if (state.Failing.Add(pass.Component))
        {
            AutoscalerLog.MetricsUnavailable(logger, ObjectKey.Of(model).ToString(), pass.Component, pass.Error);
            await events.RecordAsync(model, EventRecorder.Warning, MetricsUnavailable, $"{pass.Name}: {pass.Error}; {(pass.Desired == pass.Current ? "its replicas are left as they are" : "its replicas are only brought within their bounds")}", cancellationToken).ConfigureAwait(false);
        }
    }

    // A Normal Event when a component's limit changes to a new reason (it reaches maxReplicas, say), none while it holds;
    // the end of a limit shows in the ScalingLimited condition. A pass without a metric leaves the last reason as it was.
    // Resting at minReplicas is every idle model's state, not news: it has the condition but no Event.
    private async Task ReportLimitAsync(DeepSeekModel model, ModelState state, ComponentPass pass, CancellationToken cancellationToken)
    {
        if (pass.Decision is not { } decision || state.Limits.GetValueOrDefault(pass.Component) == decision.Limit)
        {
            return;
        }

        state.Limits[pass.Component] = decision.Limit;
        if (pass.LimitMessage is { } message && decision.Limit != ScalingLimit.TooFewReplicas)
        {
            await events.RecordAsync(model, EventRecorder.Normal, ScalingLimited, message, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Forget(ObjectKey key)
    {
        if (states.TryRemove(key, out _))
        {
            AutoscalerLog.Stopped(logger, key.ToString());
        }

        gauges.Keep(key, []);
    }

    // Conditions and timestamps carry whole seconds, as the API server stores them.
    private static DateTime Seconds(DateTime time) => time.AddTicks(-(time.Ticks % TimeSpan.TicksPerSecond));

    // What the autoscaler remembers of a model between passes.
    private sealed class ModelState(ReplicaCalculator calculator)
    {
        public ReplicaCalculator Calculator { get; } = calculator;

        public DateTimeOffset? LastPass { get; set; }

        // Components whose last pass found no metric: their Warning Event was recorded.
        public HashSet<string> Failing { get; } = new(StringComparer.Ordinal);

        // What held each component's last decision back; a component not here was not held back.
        public Dictionary<string, ScalingLimit> Limits { get; } = new(StringComparer.Ordinal);
    }
}
