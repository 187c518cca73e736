using System.Globalization;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Runtime;
using k8s.Models;
using Prometheus;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// <c>dsop_model_replicas</c> (what a router or shard Deployment's spec asks for) and <c>dsop_model_ready_replicas</c>
/// (what its status reports ready) by <c>namespace</c>, <c>model</c> and <c>component</c> (<c>router</c> or
/// <c>shard-&lt;k&gt;</c>, as the autoscaler's gauges name them), set from the Deployments' informer as each one is
/// added or changes; a Deployment's series go with it.
/// </summary>
/// <remarks>
/// Not read from the cache at each scrape: that deserialized every cached Deployment at once (2 500 at 500 models), the
/// operator's largest burst of memory.
/// </remarks>
internal static class ReplicaGauges
{
    private static readonly string[] Labels = ["namespace", "model", "component"];

    /// <summary>Publishes the gauges of <paramref name="deployments"/> in <paramref name="registry"/> as they change.</summary>
    public static void Register(CollectorRegistry registry, Informer<V1Deployment> deployments)
    {
        var metrics = Metrics.WithCustomRegistry(registry);
        var wanted = metrics.CreateGauge("dsop_model_replicas", "Replicas a model's router or shard Deployment asks for in its spec.", Labels);
        var ready = metrics.CreateGauge("dsop_model_ready_replicas", "Replicas of a model's router or shard Deployment that are ready.", Labels);
        var published = new Dictionary<ObjectKey, (string Namespace, string Model, string Component)>();
        var gate = new Lock();

        void Remove(ObjectKey key)
        {
            if (published.Remove(key, out var gone))
            {
                wanted.RemoveLabelled(gone.Namespace, gone.Model, gone.Component);
                ready.RemoveLabelled(gone.Namespace, gone.Model, gone.Component);
            }
        }

        void Set(V1Deployment deployment)
        {
            var key = ObjectKey.Of(deployment);
            lock (gate)
            {
                var series = Series(deployment);
                if (published.TryGetValue(key, out var old) && old != series)
                {
                    Remove(key);
                }

                if (series is not { } current)
                {
                    return;
                }

                published[key] = current;
                wanted.WithLabels(current.Namespace, current.Model, current.Component).Set(deployment.Spec?.Replicas ?? 1);
                ready.WithLabels(current.Namespace, current.Model, current.Component).Set(deployment.Status?.ReadyReplicas ?? 0);
            }
        }

        deployments.AddHandlers(new InformerHandlers<V1Deployment>
        {
            Added = Set,
            Changed = Set,
            Deleted = deployment =>
            {
                lock (gate)
                {
                    Remove(ObjectKey.Of(deployment));
                }
            },
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
