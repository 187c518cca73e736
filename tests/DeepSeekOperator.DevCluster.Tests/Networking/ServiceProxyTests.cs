using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Tests.Networking;

/// <summary>
/// The service proxy over real loopback sockets: backends are echo servers on pod IPs of 127.80.0.0/16, Services get
/// explicit cluster IPs of 127.96.250.0/24 (one per test), away from the addresses other test clusters allocate.
/// </summary>
public sealed class ServiceProxyTests : IAsyncLifetime
{
    private const int ServicePort = 8080;
    private readonly ConcurrentQueue<string> warnings = new();
    private readonly List<EchoBackend> backends = [];
    private NetworkingCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await NetworkingCluster.StartAsync(new RecordingLogs(warnings));

    public async Task DisposeAsync()
    {
        await cluster.DisposeAsync();
        foreach (var backend in backends)
        {
            backend.Dispose();
        }
    }

    [Fact]
    public async Task Connection_ReachesAReadyEndpoint_RoundRobinOverTwo_WithHalfClose()
    {
        await ServiceAsync("rr", "127.96.250.1");
        await BackendPodAsync("rr-a", "rr", "127.80.1.1", ready: true);
        await BackendPodAsync("rr-b", "rr", "127.80.1.2", ready: true);

        await EventuallyAsync(async () => (await SendManyAsync("127.96.250.1", 2)).Distinct().Count() == 2, "both endpoints answering");

        var answers = await SendManyAsync("127.96.250.1", 4);
        Assert.All(answers, a => Assert.Contains(a, (string[])["rr-a:hello", "rr-b:hello"]));
        Assert.NotEqual(answers[0], answers[1]);
        Assert.Equal(answers[0], answers[2]);
        Assert.Equal(answers[1], answers[3]);
    }

    [Fact]
    public async Task EndpointTurningNotReady_IsSkipped()
    {
        await ServiceAsync("skip", "127.96.250.2");
        await BackendPodAsync("skip-a", "skip", "127.80.2.1", ready: true);
        await BackendPodAsync("skip-b", "skip", "127.80.2.2", ready: true);
        await EventuallyAsync(async () => (await SendManyAsync("127.96.250.2", 2)).Distinct().Count() == 2, "both endpoints answering");

        await cluster.RunningAsync("skip-b", "127.80.2.2", ready: false);

        await EventuallyAsync(async () => (await SendManyAsync("127.96.250.2", 4)).All(a => a == "skip-a:hello"), "only skip-a answering");
    }

    [Fact]
    public async Task ServiceWithoutReadyEndpoints_RefusesConnections_UntilOneTurnsReady()
    {
        await ServiceAsync("cold", "127.96.250.3");
        await BackendPodAsync("cold-a", "cold", "127.80.3.1", ready: false);
        await cluster.SlicesAsync("cold", s => NetworkingCluster.Summary(s).SequenceEqual(["127.80.3.1 F/F/F"]), "the endpoint listed not ready");

        Assert.True(await IsRefusedAsync("127.96.250.3"));

        await cluster.RunningAsync("cold-a", "127.80.3.1", ready: true);
        await EventuallyAsync(async () => !await IsRefusedAsync("127.96.250.3"), "the listener opening");
        Assert.Equal("cold-a:hello", await SendAsync("127.96.250.3", "hello"));

        await cluster.RunningAsync("cold-a", "127.80.3.1", ready: false);
        await EventuallyAsync(() => IsRefusedAsync("127.96.250.3"), "the listener closing");
    }

    [Fact]
    public async Task DeletedService_StopsListening()
    {
        await ServiceAsync("gone", "127.96.250.4");
        await BackendPodAsync("gone-a", "gone", "127.80.4.1", ready: true);
        await EventuallyAsync(async () => !await IsRefusedAsync("127.96.250.4"), "the listener opening");

        await cluster.Client.CoreV1.DeleteNamespacedServiceAsync("gone", "default");

        await EventuallyAsync(() => IsRefusedAsync("127.96.250.4"), "the listener closing");
    }

    [Fact]
    public async Task RenamedAndRetargetedServicePort_IsFollowed()
    {
        await ServiceAsync("moved", "127.96.250.5", targetPort: 9000);
        await BackendPodAsync("moved-a", "moved", "127.80.5.1", ready: true);
        backends.Add(EchoBackend.Start("moved-a-9001", new IPEndPoint(IPAddress.Parse("127.80.5.1"), 9001)));
        await EventuallyAsync(async () => await SendAsync("127.96.250.5", "hello") == "moved-a:hello", "the 9000 backend answering");

        var service = await cluster.Client.CoreV1.ReadNamespacedServiceAsync("moved", "default");
        service.Spec.Ports = [new V1ServicePort { Name = "web", Port = ServicePort, TargetPort = 9001 }];
        await cluster.Client.CoreV1.ReplaceNamespacedServiceAsync(service, "moved", "default");

        await EventuallyAsync(async () => await SendAsync("127.96.250.5", "hello") == "moved-a-9001:hello", "the 9001 backend answering");
    }

    [Fact]
    public async Task ClientIpSessionAffinity_KeepsAClientOnOneEndpoint()
    {
        await ServiceAsync("sticky", "127.96.250.6", affinity: "ClientIP");
        await BackendPodAsync("sticky-a", "sticky", "127.80.6.1", ready: true);
        await cluster.SlicesAsync("sticky", s => NetworkingCluster.Summary(s).Count == 1, "the first endpoint listed");
        await BackendPodAsync("sticky-b", "sticky", "127.80.6.2", ready: true);
        await cluster.SlicesAsync("sticky", s => NetworkingCluster.Summary(s).Count == 2, "both endpoints listed");
        await EventuallyAsync(async () => !await IsRefusedAsync("127.96.250.6"), "the listener opening");

        var answers = await SendManyAsync("127.96.250.6", 4);

        Assert.Single(answers.Distinct());
    }

    [Fact]
    public async Task PortInUse_IsLoggedOnceAsAWarning_AndTheProxyGoesOn()
    {
        using var squatter = new TcpListener(IPAddress.Parse("127.96.250.7"), ServicePort);
        squatter.Start();
        await ServiceAsync("taken", "127.96.250.7");
        await BackendPodAsync("taken-a", "taken", "127.80.7.1", ready: true);
        await EventuallyAsync(() => Task.FromResult(warnings.Any(w => w.Contains("default/taken", StringComparison.Ordinal))), "the warning");
        await BackendPodAsync("taken-b", "taken", "127.80.7.2", ready: true);
        await cluster.SlicesAsync("taken", s => NetworkingCluster.Summary(s).Count == 2, "both endpoints listed");

        await ServiceAsync("free", "127.96.250.8");
        await BackendPodAsync("free-a", "free", "127.80.8.1", ready: true);
        await EventuallyAsync(async () => await SendAsync("127.96.250.8", "hello") == "free-a:hello", "another Service still proxied");

        var warning = Assert.Single(warnings, w => w.Contains("default/taken", StringComparison.Ordinal));
        Assert.Contains("127.96.250.7:8080", warning, StringComparison.Ordinal);
        Assert.Contains("\"http\"", warning, StringComparison.Ordinal);
    }

    private Task<V1Service> ServiceAsync(string name, string clusterIp, int targetPort = 9000, string affinity = "None") =>
        cluster.Client.CoreV1.CreateNamespacedServiceAsync(
            new V1Service
            {
                Metadata = new V1ObjectMeta { Name = name },
                Spec = new V1ServiceSpec
                {
                    ClusterIP = clusterIp,
                    Selector = new Dictionary<string, string> { ["app"] = name },
                    Ports = [new V1ServicePort { Name = "http", Port = ServicePort, TargetPort = targetPort }],
                    SessionAffinity = affinity,
                },
            },
            "default");

    /// <summary>A pod of <paramref name="app"/> at <paramref name="ip"/>, with an echo server answering as the pod on port 9000.</summary>
    private async Task BackendPodAsync(string name, string app, string ip, bool ready)
    {
        backends.Add(EchoBackend.Start(name, new IPEndPoint(IPAddress.Parse(ip), 9000)));
        await cluster.PodAsync(name, app, ip, ready);
    }

    private static async Task<List<string>> SendManyAsync(string clusterIp, int count)
    {
        var answers = new List<string>();
        for (var i = 0; i < count; i++)
        {
            answers.Add(await SendAsync(clusterIp, "hello"));
        }

        return answers;
    }

    /// <summary>Sends <paramref name="text"/>, half-closes, and reads the answer until the proxy closes the connection; "" when refused or reset.</summary>
    private static async Task<string> SendAsync(string clusterIp, string text)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Parse(clusterIp), ServicePort);
        }
        catch (SocketException error) when (error.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
        {
            return "";
        }

        try
        {
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text));
            client.Client.Shutdown(SocketShutdown.Send);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return await reader.ReadToEndAsync();
        }
        catch (IOException error) when (error.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return "";
        }
    }

    private static async Task<bool> IsRefusedAsync(string clusterIp)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Parse(clusterIp), ServicePort);
            return false;
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Queued on a listener that closed before accepting it: the next try tells.
            return false;
        }
    }

    private static Task<bool> EventuallyAsync(Func<Task<bool>> check, string what) =>
        Conformance.Eventually.ReadAsync(check, done => done, what);

    /// <summary>
    /// A backend that reads a connection to its end, then answers <c>&lt;name&gt;:&lt;what it read&gt;</c> and closes.
    /// </summary>
    private sealed class EchoBackend : IDisposable
    {
        private readonly TcpListener listener;

        private EchoBackend(TcpListener listener) => this.listener = listener;

        public static EchoBackend Start(string name, IPEndPoint address)
        {
            var listener = new TcpListener(address);
            listener.Start();
            var backend = new EchoBackend(listener);
            _ = backend.ServeAsync(name);
            return backend;
        }

        public void Dispose() => listener.Dispose();

        private async Task ServeAsync(string name)
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await listener.AcceptTcpClientAsync();
                }
                catch (Exception error) when (error is SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        var stream = client.GetStream();
                        using var reader = new StreamReader(stream, Encoding.UTF8, leaveOpen: true);
                        var text = await reader.ReadToEndAsync();
                        await stream.WriteAsync(Encoding.UTF8.GetBytes($"{name}:{text}"));
                    }
                });
            }
        }
    }

    /// <summary>Keeps the formatted Warning messages logged in <paramref name="warnings"/>.</summary>
    private sealed class RecordingLogs(ConcurrentQueue<string> warnings) : ILoggerFactory, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                warnings.Enqueue(formatter(state, exception));
            }
        }
    }
}
