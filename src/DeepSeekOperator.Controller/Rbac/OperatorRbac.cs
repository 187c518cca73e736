using System.Text;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Rbac;

/// <summary>One generated file: its name in its directory, and its text.</summary>
/// <param name="Name">The file name, e.g. <c>role.yaml</c>.</param>
/// <param name="Content">The file's text, ending in a newline.</param>
public sealed record ManifestFile(string Name, string Content);

/// <summary>
/// The operator's RBAC manifests for <c>config/rbac</c>, generated from <see cref="OperatorPermissions"/>: the
/// ServiceAccount the operator runs as, a ClusterRole and ClusterRoleBinding with <see cref="OperatorPermissions.ClusterWide"/>,
/// a Role and RoleBinding in the operator's namespace with <see cref="OperatorPermissions.LeaderElection"/>, and the
/// kustomization listing them.
/// </summary>
public static class OperatorRbac
{
    /// <summary>The name of the ServiceAccount, the ClusterRole and the ClusterRoleBinding.</summary>
    public const string Name = "deepseek-operator";

    /// <summary>The namespace the operator runs in.</summary>
    public const string Namespace = "deepseek-operator-system";

    /// <summary>The name of the leader election Role and RoleBinding.</summary>
    public const string LeaderElectionName = "deepseek-operator-leader-election";

    private const string RbacGroup = "rbac.authorization.k8s.io";
    private const string RbacVersion = RbacGroup + "/v1";

    /// <summary>The files of <c>config/rbac</c>, in the order the kustomization lists them, kustomization last.</summary>
    public static IReadOnlyList<ManifestFile> Files()
    {
        ManifestFile[] resources =
        [
            new("service_account.yaml", Yaml(ServiceAccount())),
            new("role.yaml", Yaml(ClusterRole())),
            new("role_binding.yaml", Yaml(ClusterRoleBinding())),
            new("leader_election_role.yaml", Yaml(LeaderElectionRole())),
            new("leader_election_role_binding.yaml", Yaml(LeaderElectionRoleBinding())),
        ];
        var kustomization = new StringBuilder()
            .Append("# Generated from OperatorPermissions by `make manifests` (dsop rbac): do not edit.\n")
            .Append("apiVersion: kustomize.config.k8s.io/v1beta1\n")
            .Append("kind: Kustomization\n")
            .Append("resources:\n");
        foreach (var file in resources)
        {
            kustomization.Append("- ").Append(file.Name).Append('\n');
        }

        return [.. resources, new("kustomization.yaml", kustomization.ToString())];
    }

    /// <summary>The ServiceAccount the operator's pods run as.</summary>
    public static V1ServiceAccount ServiceAccount() => new()
    {
        ApiVersion = "v1",
        Kind = V1ServiceAccount.KubeKind,
        Metadata = Meta(Name, Namespace),
    };

    /// <summary>The ClusterRole with <see cref="OperatorPermissions.ClusterWide"/>.</summary>
    public static V1ClusterRole ClusterRole() => new()
    {
        ApiVersion = RbacVersion,
        Kind = V1ClusterRole.KubeKind,
        Metadata = Meta(Name, null),
        Rules = [.. OperatorPermissions.ClusterWide.Select(rule => rule.ToPolicyRule())],
    };

    /// <summary>Binds the ClusterRole to the ServiceAccount.</summary>
    public static V1ClusterRoleBinding ClusterRoleBinding() => new()
    {
        ApiVersion = RbacVersion,
        Kind = V1ClusterRoleBinding.KubeKind,
        Metadata = Meta(Name, null),
        RoleRef = new V1RoleRef { ApiGroup = RbacGroup, Kind = V1ClusterRole.KubeKind, Name = Name },
        Subjects = [Subject()],
    };

    /// <summary>The Role with <see cref="OperatorPermissions.LeaderElection"/>, in the operator's namespace.</summary>
    public static V1Role LeaderElectionRole() => new()
    {
        ApiVersion = RbacVersion,
        Kind = V1Role.KubeKind,
        Metadata = Meta(LeaderElectionName, Namespace),
        Rules = [.. OperatorPermissions.LeaderElection.Select(rule => rule.ToPolicyRule())],
    };

    /// <summary>Binds the leader election Role to the ServiceAccount.</summary>
    public static V1RoleBinding LeaderElectionRoleBinding() => new()
    {
        ApiVersion = RbacVersion,
        Kind = V1RoleBinding.KubeKind,
        Metadata = Meta(LeaderElectionName, Namespace),
        RoleRef = new V1RoleRef { ApiGroup = RbacGroup, Kind = V1Role.KubeKind, Name = LeaderElectionName },
        Subjects = [Subject()],
    };

    private static Rbacv1Subject Subject() => new() { Kind = V1ServiceAccount.KubeKind, Name = Name, NamespaceProperty = Namespace };

    private static V1ObjectMeta Meta(string name, string? ns) => new()
    {
        Name = name,
        NamespaceProperty = ns,
        Labels = new Dictionary<string, string>
        {
            ["app.kubernetes.io/name"] = Name,
            ["app.kubernetes.io/component"] = "rbac",
            ["app.kubernetes.io/part-of"] = Name,
        },
    };

    private static string Yaml(object value) =>
        "# Generated from OperatorPermissions by `make manifests` (dsop rbac): do not edit.\n" + KubernetesYaml.Serialize(value).ReplaceLineEndings("\n").TrimEnd('\n') + "\n";
}
