using System.Text.Json.Nodes;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The ServiceMonitor <c>&lt;model&gt;</c>: Prometheus scrapes the routers through the gateway Service's <c>http</c> port
/// and every shard through its headless Service's <c>metrics</c> port, at <c>/metrics</c>. The Prometheus Operator
/// labels each target with <c>namespace</c>, <c>pod</c>, <c>service</c>, <c>endpoint</c> and <c>container</c>; the
/// relabelings add the <c>model</c>, <c>component</c> and <c>shard</c> of the pod's labels, as
/// <c>config/prometheus/prometheus.yml</c> does, which the dashboards and alert rules select on.
/// </summary>
internal static class ServiceMonitors
{
    /// <summary>The prefix Kubernetes discovery gives a target pod's labels.</summary>
    private const string PodLabelPrefix = "__meta_kubernetes_pod_label_";

    public static ServiceMonitor Build(ChildContext context) => new()
    {
        Metadata = context.Meta(context.Name, ChildLabels.Monitoring),
        Spec = new JsonObject
        {
            ["selector"] = new JsonObject
            {
                ["matchLabels"] = new JsonObject
                {
                    [ChildLabels.NameKey] = ChildLabels.AppName,
                    [ChildLabels.InstanceKey] = context.Name,
                },
                ["matchExpressions"] = new JsonArray(new JsonObject
                {
                    ["key"] = ChildLabels.ComponentKey,
                    ["operator"] = "In",
                    ["values"] = new JsonArray(ChildLabels.Gateway, ChildLabels.ShardComponent),
                }),
            },
            ["namespaceSelector"] = new JsonObject { ["matchNames"] = new JsonArray(context.Namespace) },
            ["endpoints"] = new JsonArray(Endpoint(ServingArgs.HttpPortName), Endpoint(ServingArgs.MetricsPortName)),
        },
    };

    private static JsonObject Endpoint(string port) => new()
    {
        ["port"] = port,
        ["path"] = "/metrics",
        ["relabelings"] = new JsonArray(
            Relabeling(ChildLabels.InstanceKey, "model"),
            Relabeling(ChildLabels.ComponentKey, "component"),
            Relabeling(ChildLabels.Shard, "shard")),
    };

    /// <summary>Copies the pod label <paramref name="podLabel"/> to <paramref name="target"/> (absent where the pod has none).</summary>
    private static JsonObject Relabeling(string podLabel, string target) => new()
    {
        ["sourceLabels"] = new JsonArray(PodLabelPrefix + PrometheusName(podLabel)),
        ["targetLabel"] = target,
        ["action"] = "replace",
    };

    /// <summary>A Kubernetes label key as Kubernetes discovery names it: every character outside [a-zA-Z0-9_] becomes '_'.</summary>
    private static string PrometheusName(string key) =>
        string.Concat(key.Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_'));
}
