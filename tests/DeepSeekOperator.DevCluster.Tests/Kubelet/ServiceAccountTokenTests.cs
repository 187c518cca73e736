using k8s;
using k8s.Exceptions;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

/// <summary>Pod processes get the service-account credentials a kubelet mounts, through <c>KUBECONFIG</c>, unless the token is not automounted.</summary>
public sealed class ServiceAccountTokenTests : IAsyncLifetime
{
    private const string TokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";
    private PodRunnerCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await PodRunnerCluster.StartAsync();

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task AutomountedToken_GivesTheProcessAKubeconfig_WhoseServerTokenAndCaListEndpointSlices()
    {
        var container = PodRunnerCluster.TestServer();
        container.Env.Add(new V1EnvVar { Name = "TOKEN_FILE", Value = TokenPath });
        await cluster.CreateAsync(PodRunnerCluster.Pod("sa", container));
        var pod = await cluster.WaitForAsync("sa", PodRunnerCluster.IsReady, "Ready");

        var (status, kubeconfig) = await PodRunnerCluster.GetAsync(pod, "/env?name=KUBECONFIG");

        Assert.Equal(200, status);
        Assert.StartsWith(Path.Combine(cluster.Root, "pods", pod.Metadata.Uid), kubeconfig, StringComparison.Ordinal);
        var directory = Path.GetDirectoryName(kubeconfig)!;
        Assert.Equal((200, cluster.Api.Server.Token), await PodRunnerCluster.GetAsync(pod, $"/files?path={Path.Combine(directory, "token")}"));
        Assert.Equal((200, "default"), await PodRunnerCluster.GetAsync(pod, $"/files?path={Path.Combine(directory, "namespace")}"));
        Assert.Equal((200, cluster.Api.Server.CertificateAuthorityPem), await PodRunnerCluster.GetAsync(pod, $"/files?path={Path.Combine(directory, "ca.crt")}"));
        var (_, tokenFile) = await PodRunnerCluster.GetAsync(pod, "/env?name=TOKEN_FILE");
        Assert.Equal(Path.Combine(directory, "token"), tokenFile);

        var configuration = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        Assert.Equal("default", configuration.Namespace);
        Assert.Equal(cluster.Api.Server.HttpsUri.ToString().TrimEnd('/'), configuration.Host.TrimEnd('/'));
        using var client = new Kubernetes(configuration);
        var slices = await client.DiscoveryV1.ListNamespacedEndpointSliceAsync("default");
        Assert.Contains(slices.Items, s => s.Metadata.Name == "kubernetes");
    }

    [Fact]
    public async Task TokenNotAutomounted_ByThePodOrItsServiceAccount_LeavesKubeconfigNamingNoFile_AndTheManifestMayOverrideIt()
    {
        await cluster.Client.CoreV1.CreateNamespacedServiceAccountAsync(
            new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "quiet" }, AutomountServiceAccountToken = false },
            "default");
        var offOnPod = PodRunnerCluster.Pod("off", PodRunnerCluster.TestServer());
        offOnPod.Spec.AutomountServiceAccountToken = false;
        var offOnAccount = PodRunnerCluster.Pod("quiet", PodRunnerCluster.TestServer());
        offOnAccount.Spec.ServiceAccountName = "quiet";
        var podOverridesAccount = PodRunnerCluster.Pod("loud", PodRunnerCluster.TestServer());
        podOverridesAccount.Spec.ServiceAccountName = "quiet";
        podOverridesAccount.Spec.AutomountServiceAccountToken = true;
        var own = PodRunnerCluster.TestServer();
        own.Env.Add(new V1EnvVar { Name = "KUBECONFIG", Value = "/etc/own/kubeconfig" });
        foreach (var pod in new[] { offOnPod, offOnAccount, podOverridesAccount, PodRunnerCluster.Pod("own", own) })
        {
            await cluster.CreateAsync(pod);
        }

        foreach (var name in new[] { "off", "quiet" })
        {
            var pod = await cluster.WaitForAsync(name, PodRunnerCluster.IsReady, "Ready");
            var (_, kubeconfig) = await PodRunnerCluster.GetAsync(pod, "/env?name=KUBECONFIG");
            Assert.EndsWith(Path.Combine("no-service-account-token", "kubeconfig"), kubeconfig, StringComparison.Ordinal);
            Assert.Equal(404, (await PodRunnerCluster.GetAsync(pod, $"/files?path={kubeconfig}")).Status);
            Assert.False(Directory.Exists(Path.Combine(cluster.Root, "pods", pod.Metadata.Uid, "volumes", "kubernetes.io~projected", "kube-api-access")));
            var error = Assert.Throws<KubeConfigException>(() => KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
            Assert.Contains(kubeconfig, error.Message, StringComparison.Ordinal);
        }

        var loud = await cluster.WaitForAsync("loud", PodRunnerCluster.IsReady, "Ready");
        var (_, loudKubeconfig) = await PodRunnerCluster.GetAsync(loud, "/env?name=KUBECONFIG");
        Assert.Equal(200, (await PodRunnerCluster.GetAsync(loud, $"/files?path={loudKubeconfig}")).Status);
        Assert.Contains("system:serviceaccount:default:quiet", await File.ReadAllTextAsync(loudKubeconfig), StringComparison.Ordinal);

        var ownPod = await cluster.WaitForAsync("own", PodRunnerCluster.IsReady, "Ready");
        Assert.Equal((200, "/etc/own/kubeconfig"), await PodRunnerCluster.GetAsync(ownPod, "/env?name=KUBECONFIG"));
    }
}
