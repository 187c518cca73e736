using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>What the pod runner gives pods to reach the API server: its HTTPS address, its CA (PEM) and the bearer token.</summary>
internal sealed record ServiceAccountCredentials(Uri Server, string CertificateAuthorityPem, string Token);

/// <summary>
/// The service-account token volume the kubelet mounts at <see cref="MountPath"/> in every container unless
/// <c>automountServiceAccountToken</c> is false (on the pod, else on its ServiceAccount): <c>token</c>, <c>ca.crt</c>
/// and <c>namespace</c>, here with a <c>kubeconfig</c> beside them that uses them, because a process cannot see the
/// mount path and clients read <c>$KUBECONFIG</c> before anything else. The dev cluster has one token for everyone.
/// </summary>
internal static class ServiceAccountToken
{
    /// <summary>Where a container finds the token on a real node.</summary>
    public const string MountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>
    /// What <c>KUBECONFIG</c> names, under the pod's directory, when no token is mounted: a file that never exists, so a
    /// client fails with its name (<c>kubeconfig file not found at …/no-service-account-token/kubeconfig</c>) instead of
    /// reading the host user's <c>~/.kube/config</c>.
    /// </summary>
    public static string MissingKubeconfig(string podDirectory) => Path.Combine(podDirectory, "no-service-account-token", "kubeconfig");

    /// <summary>The volume's directory under the pod's, laid out as the kubelet lays out the projected <c>kube-api-access</c> volume.</summary>
    public static string Directory(string podDirectory) => Path.Combine(podDirectory, "volumes", "kubernetes.io~projected", "kube-api-access");

    /// <summary>
    /// Whether the pod gets a token: its <c>automountServiceAccountToken</c> if set, else its ServiceAccount's (the
    /// <c>default</c> one when unnamed), else true.
    /// </summary>
    public static bool IsAutomounted(ObjectStore store, JsonObject pod)
    {
        if (Json.Bool(pod["spec"]?["automountServiceAccountToken"]) is { } onPod)
        {
            return onPod;
        }

        var account = store.Get("serviceaccounts", Meta.Namespace(pod), AccountName(pod))?.Value;
        return Json.Bool(account?["automountServiceAccountToken"]) ?? true;
    }

    /// <summary>The pod's ServiceAccount: <c>spec.serviceAccountName</c>, else <c>default</c>.</summary>
    public static string AccountName(JsonObject pod) => Json.String(pod["spec"]?["serviceAccountName"]) is { Length: > 0 } named ? named : "default";

    /// <summary>Writes <c>token</c>, <c>ca.crt</c>, <c>namespace</c> and <c>kubeconfig</c> into <paramref name="directory"/>; returns the kubeconfig's path.</summary>
    public static string Write(string directory, ServiceAccountCredentials credentials, string ns, string serviceAccount)
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        const UnixFileMode Readable = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        var server = credentials.Server.ToString().TrimEnd('/');
        var user = $"system:serviceaccount:{ns}:{serviceAccount}";
        var kubeconfig = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: dev-cluster
              cluster:
                server: {server}
                certificate-authority: {Path.Combine(directory, "ca.crt")}
            contexts:
            - name: {user}
              context:
                cluster: dev-cluster
                user: {user}
                namespace: {ns}
            current-context: {user}
            users:
            - name: {user}
              user:
                token: {credentials.Token}
            preferences: {"{}"}

            """;
        AtomicWriter.Write(directory, new Dictionary<string, FileProjection>(StringComparer.Ordinal)
        {
            ["token"] = new(Encoding.UTF8.GetBytes(credentials.Token), Private),
            ["ca.crt"] = new(Encoding.UTF8.GetBytes(credentials.CertificateAuthorityPem), Readable),
            ["namespace"] = new(Encoding.UTF8.GetBytes(ns), Readable),
            ["kubeconfig"] = new(Encoding.UTF8.GetBytes(kubeconfig), Private),
        });
        return Path.Combine(directory, "kubeconfig");
    }
}
