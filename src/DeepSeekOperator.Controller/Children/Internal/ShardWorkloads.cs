using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// Per expert shard k: the Deployment <c>&lt;model&gt;-shard-&lt;k&gt;</c> of <c>spec.experts.replicasPerShard</c>
/// interchangeable pods, spread over nodes, and the headless Service of the same name whose EndpointSlices the
/// routers watch.
/// </summary>
internal static class ShardWorkloads
{
    private const string HostnameTopology = "kubernetes.io/hostname";

    public static V1Deployment Deployment(ChildContext context, int shard)
    {
        var grpc = new V1ContainerPort { Name = ServingArgs.GrpcPortName, ContainerPort = ServingArgs.GrpcPort, Protocol = "TCP" };
        var metrics = new V1ContainerPort { Name = ServingArgs.MetricsPortName, ContainerPort = ServingArgs.MetricsPort, Protocol = "TCP" };
        var template = PodTemplates.Build(
            context, ChildLabels.ShardComponent, shard, context.Spec.Experts, ServingArgs.Shard(context, shard), [grpc, metrics], metrics, readsApi: false);
        template.Spec.TopologySpreadConstraints =
        [
            new V1TopologySpreadConstraint
            {
                MaxSkew = 1,
                TopologyKey = HostnameTopology,
                WhenUnsatisfiable = "ScheduleAnyway",
                LabelSelector = new V1LabelSelector { MatchLabels = context.Selector(ChildLabels.ShardComponent, shard) },
            },
        ];
        return DeploymentReplicas.Shard(context, new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = context.Meta(context.ShardName(shard), ChildLabels.ShardComponent, shard),
            Spec = new V1DeploymentSpec
            {
                Replicas = context.Spec.Experts.ReplicasPerShard,
                Selector = new V1LabelSelector { MatchLabels = context.Selector(ChildLabels.ShardComponent, shard) },
                Template = template,
            },
        }, shard);
    }

    /// <summary>The headless Service: gRPC for the routers, metrics for the ServiceMonitor; not-ready pods stay out.</summary>
    public static V1Service Service(ChildContext context, int shard) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = context.Meta(context.ShardName(shard), ChildLabels.ShardComponent, shard),
        Spec = new V1ServiceSpec
        {
            ClusterIP = "None",
            Selector = context.Selector(ChildLabels.ShardComponent, shard),
            Ports =
            [
                new V1ServicePort { Name = ServingArgs.GrpcPortName, Port = ServingArgs.GrpcPort, TargetPort = ServingArgs.GrpcPortName, Protocol = "TCP", AppProtocol = "kubernetes.io/h2c" },
                new V1ServicePort { Name = ServingArgs.MetricsPortName, Port = ServingArgs.MetricsPort, TargetPort = ServingArgs.MetricsPortName, Protocol = "TCP" },
            ],
        },
    };
}
