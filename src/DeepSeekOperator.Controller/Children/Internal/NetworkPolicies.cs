using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// Ingress of the model's pods: anyone may reach the routers' port (the API and their metrics); a shard's gRPC port
/// only this model's routers; a shard's metrics port only pods in the Prometheus namespace.
/// </summary>
internal static class NetworkPolicies
{
    private const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    public static V1NetworkPolicy Routers(ChildContext context) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "NetworkPolicy",
        Metadata = context.Meta($"{context.Name}-routers", ChildLabels.Network),
        Spec = new V1NetworkPolicySpec
        {
            PodSelector = new V1LabelSelector { MatchLabels = context.Selector(ChildLabels.Router) },
            PolicyTypes = ["Ingress"],
            Ingress = [new V1NetworkPolicyIngressRule { Ports = [Port(context.Spec.Serving.Port)] }],
        },
    };

    public static V1NetworkPolicy Shards(ChildContext context) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "NetworkPolicy",
        Metadata = context.Meta($"{context.Name}-shards", ChildLabels.Network),
        Spec = new V1NetworkPolicySpec
        {
            PodSelector = new V1LabelSelector { MatchLabels = context.Selector(ChildLabels.ShardComponent) },
            PolicyTypes = ["Ingress"],
            Ingress =
            [
                new V1NetworkPolicyIngressRule
                {
                    FromProperty = [new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchLabels = context.Selector(ChildLabels.Router) } }],
                    Ports = [Port(ServingArgs.GrpcPort)],
                },
                new V1NetworkPolicyIngressRule
                {
                    FromProperty =
                    [
                        new V1NetworkPolicyPeer
                        {
                            NamespaceSelector = new V1LabelSelector
                            {
                                MatchLabels = new Dictionary<string, string> { [NamespaceNameLabel] = context.Settings.PrometheusNamespace },
                            },
                        },
                    ],
                    Ports = [Port(ServingArgs.MetricsPort)],
                },
            ],
        },
    };

    private static V1NetworkPolicyPort Port(int port) => new() { Port = port, Protocol = "TCP" };
}
