using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>The router Deployment <c>&lt;model&gt;-router</c>: <c>spec.router.replicas</c> pods serving the OpenAI API
/// (see <see cref="DeploymentReplicas"/> for who sets them when they are scaled).</summary>
internal static class RouterDeployment
{
    public static V1Deployment Build(ChildContext context)
    {
        var http = new V1ContainerPort { Name = ServingArgs.HttpPortName, ContainerPort = context.Spec.Serving.Port, Protocol = "TCP" };
        return DeploymentReplicas.Router(context, new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = context.Meta(context.RouterName, ChildLabels.Router),
            Spec = new V1DeploymentSpec
            {
                Replicas = context.Spec.Router.Replicas,
                Selector = new V1LabelSelector { MatchLabels = context.Selector(ChildLabels.Router) },
                Template = PodTemplates.Build(
                    context, ChildLabels.Router, shard: null, context.Spec.Router, ServingArgs.Router(context), [http], http, readsApi: true),
            },
        });
    }
}
