using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests;

public sealed class ApiServerSmokeTests
{
    [Fact]
    public async Task OfficialClient_OverHttpsWithTheServersCa_CreatesAndReadsAConfigMap()
    {
        await using var running = await RunningApiServer.StartAsync();
        var client = running.Client;

        var created = await client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "settings" }, Data = new Dictionary<string, string> { ["a"] = "1" } },
            "default");
        var read = await client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default");

        Assert.Equal(created.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal("1", read.Data["a"]);
        Assert.False(string.IsNullOrEmpty(read.Metadata.ResourceVersion));
    }

    [Fact]
    public async Task Https_WithoutTheToken_IsUnauthorized()
    {
        await using var running = await RunningApiServer.StartAsync();
        using var client = new Kubernetes(new KubernetesClientConfiguration
        {
            Host = running.Server.HttpsUri.ToString(),
            SslCaCerts = [System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(running.Server.CertificateAuthorityPem)],
        });

        var error = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => client.CoreV1.ListNamespaceAsync());

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, error.Response.StatusCode);
    }
}
