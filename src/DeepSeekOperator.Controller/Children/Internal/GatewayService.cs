using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>The gateway Service <c>&lt;model&gt;</c>: the model's endpoint, <c>spec.serving.port</c> on every ready router.</summary>
internal static class GatewayService
{
    public static V1Service Build(ChildContext context) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = context.Meta(context.Name, ChildLabels.Gateway),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            Selector = context.Selector(ChildLabels.Router),
            Ports =
            [
                new V1ServicePort
                {
                    Name = ServingArgs.HttpPortName,
                    Port = context.Spec.Serving.Port,
                    TargetPort = ServingArgs.HttpPortName,
                    Protocol = "TCP",
                    AppProtocol = "http",
                },
            ],
        },
    };
}
