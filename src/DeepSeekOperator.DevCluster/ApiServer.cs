using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;
using DeepSeekOperator.DevCluster.Internal.Admission;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.DevCluster;

/// <summary>
/// A Kubernetes API server for development and tests: the REST API of kube-apiserver for the resources this
/// project uses and for every CRD created in it, on 127.0.0.1 over HTTPS (bearer token) and plain HTTP.
/// It is not a production control plane; production is always real Kubernetes.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ServerCertificates certificates;
    private readonly ObjectStore store;
    private readonly CancellationTokenSource stopping = new();
    private readonly List<Task> background = [];
    private readonly ApiHandler handler;

    private ApiServer(WebApplication app, ServerCertificates certificates, ObjectStore store, ObjectService objects, ApiHandler handler, string token)
    {
        this.app = app;
        this.handler = handler;
        this.certificates = certificates;
        this.store = store;
        Objects = objects;
        Token = token;
    }

    /// <summary>The HTTPS endpoint, e.g. <c>https://127.0.0.1:6443</c>.</summary>
    public Uri HttpsUri { get; private set; } = null!;

    /// <summary>The plain-HTTP endpoint, or null when none is served.</summary>
    public Uri? HttpUri { get; private set; }

    /// <summary>The bearer token HTTPS clients present.</summary>
    public string Token { get; }

    /// <summary>The certificate authority that signed the serving certificate, PEM-encoded.</summary>
    public string CertificateAuthorityPem => certificates.AuthorityPem;

    /// <summary>The revision of the latest write (the newest resourceVersion).</summary>
    public long Revision => store.Revision;

    internal ObjectService Objects { get; }

    /// <summary>Where <c>pods/log</c> reads from: the pod runner running beside the server, or null (logs are refused).</summary>
    internal IPodLogSource? PodLogs
    {
        get => handler.PodLogs;
        set => handler.PodLogs = value;
    }

    /// <summary>Starts the server; objects in the state directory, if any, are loaded first.</summary>
    public static async Task<ApiServer> StartAsync(ApiServerOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger("DeepSeekOperator.DevCluster.ApiServer");
        var journal = options.StateDirectory is null ? null : new Journal(Path.Combine(options.StateDirectory, "objects"));
        var store = new ObjectStore(options.WatchWindow, journal);
        var registry = new ResourceRegistry();
        var clusterIps = new ClusterIpAllocator();
        foreach (var (_, stored) in store.All().Where(o => o.StorageKey == "services"))
        {
            clusterIps.Reserve(stored.Value["spec"]?["clusterIP"]?.ToString() ?? "");
        }

        var customAdmission = new CustomResourceAdmission();
        var objects = new ObjectService(store, registry, options.Time, new BuiltinAdmission(clusterIps), customAdmission);
        var certificates = ServerCertificates.LoadOrCreate(options.StateDirectory, options.Time);
        var token = LoadOrCreateToken(options.StateDirectory);
        var settings = new ApiServerSettings { BookmarkInterval = options.BookmarkInterval };
        var handler = new ApiHandler(objects, settings, null, logger);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 4 * ApiHandler.MaxBodyBytes;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Listen(IPAddress.Loopback, options.HttpsPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(certificates.Serving);
            });
            if (options.HttpPort is { } httpPort)
            {
                kestrel.Listen(IPAddress.Loopback, httpPort, listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
        var app = builder.Build();
        var server = new ApiServer(app, certificates, store, objects, handler, token);
        app.Run(server.ServeAsync);

        var controllers = new ClusterControllers(objects, customAdmission, loggerFactory, certificates.AuthorityPem);
        controllers.Restore();
        controllers.EnsureSystemNamespaces();
        server.background.Add(controllers.RunAsync(server.stopping.Token));
        server.background.Add(server.CheckpointLoopAsync(server.stopping.Token));

        await app.StartAsync(cancellationToken);
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
        foreach (var address in addresses)
        {
            var uri = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
            if (uri.Scheme == "https")
            {
                server.HttpsUri = new Uri($"https://127.0.0.1:{uri.Port}");
            }
            else
            {
                server.HttpUri = new Uri($"http://127.0.0.1:{uri.Port}");
            }
        }

        controllers.EnsureKubernetesService(server.HttpsUri.Port);
        return server;
    }

    /// <summary>Writes a kubeconfig for the HTTPS endpoint, with the CA and token, to <paramref name="path"/>.</summary>
    public void WriteKubeconfig(string path, string name = "dsop-dev")
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var ca = Convert.ToBase64String(Encoding.UTF8.GetBytes(CertificateAuthorityPem));
        var text = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: {name}
              cluster:
                server: {HttpsUri.ToString().TrimEnd('/')}
                certificate-authority-data: {ca}
            contexts:
            - name: {name}
              context:
                cluster: {name}
                user: {name}
                namespace: default
            current-context: {name}
            users:
            - name: {name}
              user:
                token: {Token}
            preferences: {"{}"}

            """;
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Runs a control loop beside the server until the server stops (controllers, the pod runner).</summary>
    internal void RunBeside(Func<CancellationToken, Task> loop) => background.Add(Task.Run(() => loop(stopping.Token)));

    /// <summary>Drops every change up to the current revision from the watch window, as an etcd compaction does.</summary>
    public void Compact() => store.Compact(store.Revision);

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await app.StopAsync();
        foreach (var task in background)
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
            }
        }

        store.Checkpoint();
        store.Dispose();
        await app.DisposeAsync();
        certificates.Dispose();
        stopping.Dispose();
    }

    private Task ServeAsync(HttpContext context)
    {
        if (context.Request.IsHttps && !Authorized(context.Request.Headers.Authorization.ToString()))
        {
            return ApiHandler.WriteJsonAsync(context, 401, new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = "Unauthorized",
                ["reason"] = "Unauthorized",
                ["code"] = 401,
            });
        }

        return handler.HandleAsync(context);
    }

    private bool Authorized(string header)
    {
        const string Prefix = "Bearer ";
        if (!header.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var given = Encoding.UTF8.GetBytes(header[Prefix.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, Encoding.UTF8.GetBytes(Token));
    }

    private async Task CheckpointLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            store.CheckpointIfLarge(50_000);
        }
    }

    private static string LoadOrCreateToken(string? stateDirectory)
    {
        var path = stateDirectory is null ? null : Path.Combine(stateDirectory, "pki", "token");
        if (path is not null && File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }

        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        if (path is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, token);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        return token;
    }
}
