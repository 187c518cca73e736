using System.Text.Json.Nodes;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The ServiceMonitor <c>&lt;model&gt;</c>: Prometheus scrapes the routers through the gateway Service's <c>http</c> port
/// and every shard through its headless Service's <c>metrics</c> port, at <c>/metrics</c>.
/// </summary>
internal static class ServiceMonitors
{
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
            ["endpoints"] = new JsonArray(
                new JsonObject { ["port"] = ServingArgs.HttpPortName, ["path"] = "/metrics" },
                new JsonObject { ["port"] = ServingArgs.MetricsPortName, ["path"] = "/metrics" }),
        },
    };
}
