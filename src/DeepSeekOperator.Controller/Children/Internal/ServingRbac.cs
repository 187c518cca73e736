using k8s.Models;

namespace DeepSeekOperator.Controller.Children.Internal;

/// <summary>
/// The identity of the model's pods, <c>&lt;model&gt;-serving</c>: the routers read the shard Services' EndpointSlices in
/// the model's namespace and nothing else; the shards mount no token.
/// </summary>
internal static class ServingRbac
{
    public static V1ServiceAccount ServiceAccount(ChildContext context) => new()
    {
        ApiVersion = "v1",
        Kind = "ServiceAccount",
        Metadata = context.Meta(context.ServiceAccountName, ChildLabels.Rbac),
    };

    public static V1Role Role(ChildContext context) => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1",
        Kind = "Role",
        Metadata = context.Meta(context.ServiceAccountName, ChildLabels.Rbac),
        Rules =
        [
            new V1PolicyRule { ApiGroups = ["discovery.k8s.io"], Resources = ["endpointslices"], Verbs = ["get", "list", "watch"] },
        ],
    };

    public static V1RoleBinding RoleBinding(ChildContext context) => new()
    {
        ApiVersion = "rbac.authorization.k8s.io/v1",
        Kind = "RoleBinding",
        Metadata = context.Meta(context.ServiceAccountName, ChildLabels.Rbac),
        RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = context.ServiceAccountName },
        Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = context.ServiceAccountName, NamespaceProperty = context.Namespace }],
    };
}
