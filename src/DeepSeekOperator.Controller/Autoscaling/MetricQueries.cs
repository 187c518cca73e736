using System.Globalization;
using DeepSeekOperator.Api.V1Alpha1;

namespace DeepSeekOperator.Controller.Autoscaling;

/// <summary>
/// The PromQL the autoscaler sends: each built-in metric as the total over one component's pods, selected by the
/// <c>namespace</c> and <c>pod</c> labels that both the operator's ServiceMonitor and the <c>kubernetes_sd</c> pod
/// relabelling of <c>config/prometheus/prometheus.yml</c> give every series, and a user's <c>query</c> with its
/// placeholders replaced.
/// </summary>
public static class MetricQueries
{
    /// <summary>The placeholder of the model's namespace in a user query.</summary>
    public const string NamespacePlaceholder = "$namespace";

    /// <summary>The placeholder of the model's name in a user query.</summary>
    public const string ModelPlaceholder = "$model";

    /// <summary>The placeholder of the regex of the component's pod names in a user query.</summary>
    public const string PodsPlaceholder = "$pods";

    /// <summary>The placeholder of the shard's index in a user query (empty for routers).</summary>
    public const string ShardPlaceholder = "$shard";

    /// <summary>
    /// The names of the router pods of <paramref name="model"/> as a regex: a Deployment's pods are
    /// <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;-&lt;suffix&gt;</c>. PromQL anchors it.
    /// </summary>
    public static string RouterPods(string model) => $"{model}-router-[a-z0-9]+-[a-z0-9]+";

    /// <summary>The names of the pods of shard <paramref name="shard"/> of <paramref name="model"/> as a regex; shard 1 never matches shard 10's.</summary>
    public static string ShardPods(string model, int shard) => string.Create(CultureInfo.InvariantCulture, $"{model}-shard-{shard}-[a-z0-9]+-[a-z0-9]+");

    /// <summary>The routers' total of <paramref name="metric"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="metric"/> is not a member of the enum.</exception>
    public static string Router(RouterMetric metric, string ns, string model)
    {
        var selector = Selector(ns, RouterPods(model));
        return metric switch
        {
            RouterMetric.InflightRequests => $"sum(dsop_router_inflight_requests{selector})",
            RouterMetric.QueueDepth => $"sum(dsop_router_queue_depth{selector})",
            RouterMetric.TokensPerSecond => $"sum(rate(dsop_router_tokens_total{selector}[1m]))",
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "not a router metric"),
        };
    }

    /// <summary>Shard <paramref name="shard"/>'s total of <paramref name="metric"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="metric"/> is not a member of the enum.</exception>
    public static string Shard(ShardMetric metric, string ns, string model, int shard)
    {
        var selector = Selector(ns, ShardPods(model, shard));
        return metric switch
        {
            ShardMetric.TokensPerSecond => $"sum(rate(dsop_shard_tokens_total{selector}[1m]))",

            // Seconds spent answering Forward calls per second: about 1 for a replica that is never idle.
            ShardMetric.ForwardUtilization => $"sum(rate(dsop_shard_forward_seconds_sum{selector}[1m]))",
            _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "not a shard metric"),
        };
    }

    /// <summary>
    /// <paramref name="query"/> with <see cref="NamespacePlaceholder"/>, <see cref="ModelPlaceholder"/>,
    /// <see cref="PodsPlaceholder"/> and <see cref="ShardPlaceholder"/> replaced.
    /// </summary>
    /// <param name="query">The user's PromQL.</param>
    /// <param name="ns">The model's namespace.</param>
    /// <param name="model">The model's name.</param>
    /// <param name="shard">The shard's index; null for routers.</param>
    public static string Expand(string query, string ns, string model, int? shard)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pods = shard is { } k ? ShardPods(model, k) : RouterPods(model);
        return query
            .Replace(NamespacePlaceholder, ns, StringComparison.Ordinal)
            .Replace(ModelPlaceholder, model, StringComparison.Ordinal)
            .Replace(PodsPlaceholder, pods, StringComparison.Ordinal)
            .Replace(ShardPlaceholder, shard?.ToString(CultureInfo.InvariantCulture) ?? "", StringComparison.Ordinal);
    }

    private static string Selector(string ns, string pods) => $"{{namespace=\"{ns}\",pod=~\"{pods}\"}}";
}
