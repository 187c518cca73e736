using DeepSeekOperator.Controller.Hosting.Internal;
using k8s;
using k8s.Exceptions;

namespace DeepSeekOperator.Controller.Tests.Hosting;

public sealed class KubeconfigFileTests : IDisposable
{
    // Two clusters, users and contexts; the current one has a token, a namespace, a TLS server name and relative paths.
    private const string TwoContexts = """
        apiVersion: v1
        kind: Config
        preferences: {}
        current-context: dev
        clusters:
        - name: prod
          cluster:
            server: https://prod.example:6443
        - name: dev
          cluster:
            server: https://127.0.0.1:39001
            insecure-skip-tls-verify: true
            tls-server-name: kubernetes.default.svc
        users:
        - name: admin
          user:
            client-certificate: certs/admin.crt
            client-key: certs/admin.key
        - name: operator
          user:
            token: abc.def
        contexts:
        - name: prod
          context: {cluster: prod, user: admin}
        - name: dev
          context:
            cluster: dev
            user: operator
            namespace: models
        """;

    private readonly string directory = Directory.CreateTempSubdirectory("kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void CurrentContext_ReadAsKubernetesClientReadsIt()
    {
        var path = Write("config", TwoContexts);

        var ours = KubeconfigFile.Load(path);
        var theirs = KubernetesClientConfiguration.BuildConfigFromConfigFile(path);

        Assert.Equal(
            (theirs.Host, theirs.Namespace, theirs.AccessToken, theirs.SkipTlsVerify, theirs.TlsServerName, theirs.CurrentContext),
            (ours.Host, ours.Namespace, ours.AccessToken, ours.SkipTlsVerify, ours.TlsServerName, ours.CurrentContext));
        Assert.Equal(("https://127.0.0.1:39001", "models", "abc.def", "dev"), (ours.Host, ours.Namespace, ours.AccessToken, ours.CurrentContext));
    }

    [Fact]
    public void RelativeClientCertificatePaths_RelativeToTheFile()
    {
        var path = Write("config", TwoContexts.Replace("current-context: dev", "current-context: prod", StringComparison.Ordinal));

        var ours = KubeconfigFile.Load(path);

        Assert.Equal(Path.Combine(directory, "certs", "admin.crt"), ours.ClientCertificateFilePath);
        Assert.Equal(Path.Combine(directory, "certs", "admin.key"), ours.ClientKeyFilePath);
        Assert.Equal(KubernetesClientConfiguration.BuildConfigFromConfigFile(path).ClientCertificateFilePath, ours.ClientCertificateFilePath);
    }

    [Theory]
    [InlineData("")]
    [InlineData("clusters: [unclosed")]
    public void NotAKubeconfig_KubeConfigExceptionNamingTheFile(string text)
    {
        var path = Write("broken", text);

        var exception = Assert.Throws<KubeConfigException>(() => KubeconfigFile.Load(path));

        Assert.Contains(path, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CurrentContextMissing_KubernetesClientsError()
    {
        var path = Write("config", TwoContexts.Replace("current-context: dev", "current-context: gone", StringComparison.Ordinal));

        var exception = Assert.Throws<KubeConfigException>(() => KubeconfigFile.Load(path));

        Assert.Contains("gone", exception.Message, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, text);
        return path;
    }
}
