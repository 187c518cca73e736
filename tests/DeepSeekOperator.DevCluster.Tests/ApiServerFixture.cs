using System.Security.Cryptography.X509Certificates;
using k8s;

namespace DeepSeekOperator.DevCluster.Tests;

/// <summary>A running API emulator on free loopback ports, with an official KubernetesClient connected to it over HTTPS.</summary>
internal sealed class RunningApiServer : IAsyncDisposable
{
    private RunningApiServer(ApiServer server, Kubernetes client, string? stateDirectory)
    {
        Server = server;
        Client = client;
        StateDirectory = stateDirectory;
    }

    public ApiServer Server { get; }

    /// <summary>A client that authenticates with the server's token and trusts its CA.</summary>
    public Kubernetes Client { get; }

    public string? StateDirectory { get; }

    /// <summary>Starts a server; <paramref name="options"/> may set a state directory, watch window or clock.</summary>
    public static async Task<RunningApiServer> StartAsync(ApiServerOptions? options = null)
    {
        var server = await ApiServer.StartAsync(options ?? new ApiServerOptions());
        return new RunningApiServer(server, CreateClient(server), options?.StateDirectory);
    }

    /// <summary>A new client for <paramref name="server"/>, as a kubeconfig written by it would configure one.</summary>
    public static Kubernetes CreateClient(ApiServer server)
    {
        var configuration = new KubernetesClientConfiguration
        {
            Host = server.HttpsUri.ToString(),
            AccessToken = server.Token,
            SslCaCerts = [X509Certificate2.CreateFromPem(server.CertificateAuthorityPem)],
        };
        return new Kubernetes(configuration);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
