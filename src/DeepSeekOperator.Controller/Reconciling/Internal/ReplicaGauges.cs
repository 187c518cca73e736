using System.Globalization;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Runtime;
using k8s.Models;
using Prometheus;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// <c>dsop_model_replicas</c> (what a router or shard Deployment's spec asks for) and <c>dsop_model_ready_replicas</c>
/// (what its status reports ready) by <c>namespace</c>, <c>model</c> and <c>component</c> (<c>router</c> or
/// <c>shard-&lt;k&gt;</c>, as the autoscaler's gauges name them), read from the Deployments' cache whenever
/// <c>/metrics</c> is scraped; a Deployment's series go with it.
/// </summary>
internal static class ReplicaGauges
{
    private static readonly string[] Labels = ["namespace", "model", "component"];

    /// <summary>Publishes the gauges of <paramref name="deployments"/> in <paramref name="registry"/> at every collect.</summary>
    public static void Register(CollectorRegistry registry, Informer<V1Deployment> deployments)
    {
        var metrics = Metrics.WithCustomRegistry(registry);
        var wanted = metrics.CreateGauge("dsop_model_replicas", "Replicas a model's router or shard Deployment asks for in its spec.", Labels);
        var ready = metrics.CreateGauge("dsop_model_ready_replicas", "Replicas of a model's router or shard Deployment that are ready.", Labels);
        var published = new HashSet<(string Namespace, string Model, string Component)>();
        var gate = new Lock();
        registry.AddBeforeCollectCallback(() =>
        {
            lock (gate)
            {
                var seen = new HashSet<(string Namespace, string Model, string Component)>();
                foreach (var deployment in deployments.List())
                {
                    if (Series(deployment) is not { } series)
                    {
                        continue;
                    }

                    seen.Add(series);
                    wanted.WithLabels(series.Namespace, series.Model, series.Component).Set(deployment.Spec?.Replicas ?? 1);
                    ready.WithLabels(series.Namespace, series.Model, series.Component).Set(deployment.Status?.ReadyReplicas ?? 0);
                }

                foreach (var gone in published.Where(series => !seen.Contains(series)).ToList())
                {
                    wanted.RemoveLabelled(gone.Namespace, gone.Model, gone.Component);
                    ready.RemoveLabelled(gone.Namespace, gone.Model, gone.Component);
                }

                published.Clear();
                published.UnionWith(seen);
            }
        });
    }

    // The labels of a router or shard Deployment; null for any other.
    private static (string Namespace, string Model, string Component)? Series(V1Deployment deployment)
    {
        var labels = deployment.Metadata.Labels;
        if (labels is null || !labels.TryGetValue(ChildLabels.InstanceKey, out var model) || !labels.TryGetValue(ChildLabels.ComponentKey, out var component))
        {
            return null;
        }

        var ns = deployment.Metadata.NamespaceProperty ?? "";
        return component switch
        {
            ChildLabels.Router => (ns, model, ChildLabels.Router),
            ChildLabels.ShardComponent when labels.TryGetValue(ChildLabels.Shard, out var shard) =>
                (ns, model, string.Create(CultureInfo.InvariantCulture, $"shard-{shard}")),
            _ => null,
        };
    }
}
