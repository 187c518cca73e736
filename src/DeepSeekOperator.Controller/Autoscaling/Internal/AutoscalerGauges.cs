using System.Collections.Concurrent;
using DeepSeekOperator.Controller.Runtime;
using Prometheus;

namespace DeepSeekOperator.Controller.Autoscaling.Internal;

/// <summary>
/// <c>dsop_autoscaler_desired_replicas</c>, <c>dsop_autoscaler_current_replicas</c>, <c>dsop_autoscaler_min_replicas</c>,
/// <c>dsop_autoscaler_max_replicas</c>, <c>dsop_autoscaler_metric_value</c> (the load per replica) and
/// <c>dsop_autoscaler_target_value</c> by <c>namespace</c>, <c>model</c> and <c>component</c>; a component's series go
/// when it is no longer scaled, and a metric value when it could not be read (which the alert on unreadable metrics
/// looks for).
/// </summary>
internal sealed class AutoscalerGauges
{
    private static readonly string[] Labels = ["namespace", "model", "component"];
    private readonly Gauge desired;
    private readonly Gauge value;
    private readonly Gauge current;
    private readonly Gauge min;
    private readonly Gauge max;
    private readonly Gauge target;
    private readonly ConcurrentDictionary<ObjectKey, HashSet<string>> published = new();

    public AutoscalerGauges(CollectorRegistry registry)
    {
        var metrics = Metrics.WithCustomRegistry(registry);
        desired = metrics.CreateGauge("dsop_autoscaler_desired_replicas", "Replicas the autoscaler last asked for, per component.", Labels);
        value = metrics.CreateGauge("dsop_autoscaler_metric_value", "The load per replica the autoscaler last read, per component.", Labels);
        current = metrics.CreateGauge("dsop_autoscaler_current_replicas", "The Deployment's replicas when the autoscaler last looked, per component.", Labels);
        min = metrics.CreateGauge("dsop_autoscaler_min_replicas", "The component's minReplicas.", Labels);
        max = metrics.CreateGauge("dsop_autoscaler_max_replicas", "The component's maxReplicas.", Labels);
        target = metrics.CreateGauge("dsop_autoscaler_target_value", "The load per replica the autoscaler aims at, per component.", Labels);
    }

    public void Set(ObjectKey key, ComponentPass pass)
    {
        desired.WithLabels(key.Namespace, key.Name, pass.Component).Set(pass.Desired);
        current.WithLabels(key.Namespace, key.Name, pass.Component).Set(pass.Current);
        min.WithLabels(key.Namespace, key.Name, pass.Component).Set(pass.MinReplicas);
        max.WithLabels(key.Namespace, key.Name, pass.Component).Set(pass.MaxReplicas);
        target.WithLabels(key.Namespace, key.Name, pass.Component).Set(pass.Target);
        if (pass.PerReplica is { } perReplica)
        {
            value.WithLabels(key.Namespace, key.Name, pass.Component).Set(perReplica);
        }
        else
        {
            value.RemoveLabelled(key.Namespace, key.Name, pass.Component);
        }

        published.GetOrAdd(key, _ => new HashSet<string>(StringComparer.Ordinal)).Add(pass.Component);
    }

    /// <summary>Removes the series of <paramref name="key"/>'s components other than <paramref name="components"/>.</summary>
    public void Keep(ObjectKey key, IEnumerable<string> components)
    {
        if (!published.TryGetValue(key, out var set))
        {
            return;
        }

        var keep = components.ToHashSet(StringComparer.Ordinal);
        foreach (var gone in set.Where(component => !keep.Contains(component)).ToList())
        {
            foreach (var gauge in new[] { desired, value, current, min, max, target })
            {
                gauge.RemoveLabelled(key.Namespace, key.Name, gone);
            }
            set.Remove(gone);
        }

        if (set.Count == 0)
        {
            published.TryRemove(key, out _);
        }
    }
}
