using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Networking;

/// <summary>
/// The dev cluster's kube-proxy, in its historical userspace mode: for every Service with a cluster IP (a loopback
/// address of 127.96.0.0/16) and each TCP port, a listener on <c>clusterIP:port</c> while the Service has at least one
/// ready endpoint, and none while it has none, so that a client is refused as iptables' REJECT refuses it. Each
/// accepted connection goes to a ready endpoint of the Service's EndpointSlices, on the endpoint port named as the
/// Service port, round robin (or the client's previous endpoint under <c>sessionAffinity: ClientIP</c>), the next
/// endpoint tried when a connect fails; bytes are copied both ways with half-close. A port that cannot be bound is
/// logged once and tried again on the Service's next change. Stopping the proxy closes every listener and connection.
/// </summary>
internal sealed partial class ServiceProxy(ObjectService objects, ILoggerFactory loggerFactory)
    : ControllerLoop(objects, loggerFactory, "service-proxy")
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";
    private const string SlicesKey = "discovery.k8s.io/endpointslices";
    private const int DefaultAffinitySeconds = 10800;
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private readonly Lock gate = new();
    private readonly Dictionary<IPEndPoint, PortListener> listeners = [];
    private readonly HashSet<(string Service, IPEndPoint Address)> unbindable = [];
    private readonly ConcurrentDictionary<Connection, byte> connections = new();
    private bool stopped;

    protected override bool Watches(string storageKey) => storageKey is "services" or SlicesKey;

    protected override IEnumerable<string> KeysFor(StoreEvent change) => change.StorageKey == "services"
        ? [change.Object.Key]
        : Meta.Label(change.Object.Value, ServiceNameLabel) is { Length: > 0 } service
            ? [StoredObject.KeyOf(change.Object.Namespace, service)]
            : [];

    protected override IEnumerable<string> InitialKeys() => Store.List("services", null).Items.Select(s => s.Key).ToList();

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var desired = Desired(key).ToDictionary(p => p.Address);
        lock (gate)
        {
            if (stopped)
            {
                return Task.CompletedTask;
            }

            foreach (var (address, listener) in listeners.Where(l => l.Value.Service == key && !desired.ContainsKey(l.Key)).ToList())
            {
                listeners.Remove(address);
                listener.Stop();
                Log.Stopped(Logger, key, address);
            }

            unbindable.RemoveWhere(u => u.Service == key && !desired.ContainsKey(u.Address));
            foreach (var (address, port) in desired)
            {
                if (listeners.TryGetValue(address, out var listener))
                {
                    listener.Update(port);
                    continue;
                }

                var socket = new TcpListener(address);
                try
                {
                    socket.Start();
                }
                catch (SocketException error)
                {
                    if (unbindable.Add((key, address)))
                    {
                        Log.CannotListen(Logger, key, port.Name, address, error.Message);
                    }

                    continue;
                }

                unbindable.Remove((key, address));
                listener = new PortListener(key, socket, port, Time);
                listeners[address] = listener;
                Log.Listening(Logger, key, port.Name, address, port.Backends.Count);
                _ = AcceptAsync(listener);
            }
        }

        return Task.CompletedTask;
    }

    protected override void Stopped()
    {
        lock (gate)
        {
            stopped = true;
            foreach (var listener in listeners.Values)
            {
                listener.Stop();
            }

            listeners.Clear();
        }

        foreach (var connection in connections.Keys)
        {
            connection.Close();
        }
    }

    /// <summary>The Service's TCP ports that have ready endpoints, each with its endpoints in a stable order.</summary>
    private IEnumerable<ProxiedPort> Desired(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var (ns, name) = (key[..slash], key[(slash + 1)..]);
        var service = Store.Get("services", ns, name)?.Value;
        if (service?["spec"] is not JsonObject spec
            || Json.String(spec["type"]) == "ExternalName"
            || !IPAddress.TryParse(Json.String(spec["clusterIP"]), out var clusterIp)
            || clusterIp.AddressFamily != AddressFamily.InterNetwork)
        {
            yield break;
        }

        var slices = Store.ListLabelled(SlicesKey, ns, ServiceNameLabel, name)
            .Select(s => s.Value)
            .Where(s => Json.String(s["addressType"]) == "IPv4")
            .ToList();
        var affinity = Json.String(spec["sessionAffinity"]) == "ClientIP"
            ? TimeSpan.FromSeconds(Json.Int64(spec["sessionAffinityConfig"]?["clientIP"]?["timeoutSeconds"]) ?? DefaultAffinitySeconds)
            : (TimeSpan?)null;
        foreach (var port in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if ((Json.String(port["protocol"]) ?? "TCP") != "TCP" || Json.Int64(port["port"]) is not { } number)
            {
                continue;
            }

            var portName = Json.String(port["name"]) ?? "";
            var backends = slices.SelectMany(s => Backends(s, portName)).Distinct().OrderBy(b => b.ToString(), StringComparer.Ordinal).ToList();
            if (backends.Count > 0)
            {
                yield return new ProxiedPort(new IPEndPoint(clusterIp, (int)number), portName, backends, affinity);
            }
        }
    }

    /// <summary>The ready endpoints of one slice on its port named <paramref name="portName"/> (an unset <c>ready</c> means ready).</summary>
    private static IEnumerable<IPEndPoint> Backends(JsonObject slice, string portName)
    {
        var port = (slice["ports"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(p => (Json.String(p["name"]) ?? "") == portName && (Json.String(p["protocol"]) ?? "TCP") == "TCP");
        if (Json.Int64(port?["port"]) is not { } number)
        {
            yield break;
        }

        foreach (var endpoint in (slice["endpoints"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (Json.Bool(endpoint["conditions"]?["ready"]) != false
                && IPAddress.TryParse(Json.String(endpoint["addresses"]?[0]), out var address)
                && address.AddressFamily == AddressFamily.InterNetwork)
            {
                yield return new IPEndPoint(address, (int)number);
            }
        }
    }

    private async Task AcceptAsync(PortListener listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.Socket.AcceptSocketAsync();
            }
            catch (Exception error) when (error is SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(listener, client);
        }
    }

    /// <summary>Connects the client to an endpoint, trying each in turn from the one chosen, and copies bytes until both sides are done.</summary>
    private async Task ForwardAsync(PortListener listener, Socket client)
    {
        client.NoDelay = true;
        var clientAddress = (client.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.Loopback;
        Socket? backend = null;
        foreach (var candidate in listener.Candidates(clientAddress))
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var timeout = new CancellationTokenSource(ConnectTimeout, Time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, Stopping);
            try
            {
                await socket.ConnectAsync(candidate, linked.Token);
                listener.Chose(clientAddress, candidate);
                backend = socket;
                break;
            }
            catch (Exception error) when (error is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                Log.EndpointFailed(Logger, listener.Service, candidate, error.Message);
                if (Stopping.IsCancellationRequested)
                {
                    break;
                }
            }
        }

        if (backend is null)
        {
            Log.NoEndpointAccepted(Logger, listener.Service, listener.Address);
            client.Dispose();
            return;
        }

        var connection = new Connection(client, backend);
        connections[connection] = 0;
        if (Stopping.IsCancellationRequested)
        {
            connection.Close();
        }

        try
        {
            await Task.WhenAll(connection.CopyAsync(client, backend), connection.CopyAsync(backend, client));
        }
        finally
        {
            connection.Close();
            connections.TryRemove(connection, out _);
        }
    }

    /// <summary>One Service port to proxy: its cluster address, name, ready endpoints, and the ClientIP affinity timeout if any.</summary>
    private sealed record ProxiedPort(IPEndPoint Address, string Name, IReadOnlyList<IPEndPoint> Backends, TimeSpan? Affinity);

    /// <summary>A listening cluster address and the endpoints its connections go to, updated as the Service changes.</summary>
    private sealed class PortListener(string service, TcpListener socket, ProxiedPort port, TimeProvider time)
    {
        private readonly ConcurrentDictionary<IPAddress, (IPEndPoint Backend, DateTimeOffset Used)> affinity = new();
        private volatile ProxiedPort port = port;
        private int next = -1;

        public string Service => service;

        public TcpListener Socket => socket;

        public IPEndPoint Address => port.Address;

        public void Update(ProxiedPort now)
        {
            port = now;
            if (now.Affinity is null)
            {
                affinity.Clear();
            }
        }

        /// <summary>The endpoints to try, in order: the client's affine one if still ready and not expired, else the next in turn, then the rest.</summary>
        public IEnumerable<IPEndPoint> Candidates(IPAddress client)
        {
            var current = port;
            var backends = current.Backends;
            var start = -1;
            if (current.Affinity is { } timeout && affinity.TryGetValue(client, out var entry) && time.GetUtcNow() - entry.Used < timeout)
            {
                start = backends.ToList().IndexOf(entry.Backend);
            }

            if (start < 0)
            {
                start = (int)((uint)Interlocked.Increment(ref next) % (uint)backends.Count);
            }

            for (var i = 0; i < backends.Count; i++)
            {
                yield return backends[(start + i) % backends.Count];
            }
        }

        public void Chose(IPAddress client, IPEndPoint backend)
        {
            if (port.Affinity is not null)
            {
                affinity[client] = (backend, time.GetUtcNow());
            }
        }

        /// <summary>Stops listening (the accept loop ends); connections already made go on.</summary>
        public void Stop() => socket.Stop();
    }

    /// <summary>A proxied connection: the client's socket and the endpoint's.</summary>
    private sealed class Connection(Socket client, Socket backend)
    {
        private int closed;

        /// <summary>Copies until <paramref name="from"/> ends, then half-closes <paramref name="to"/>; an error closes both.</summary>
        public async Task CopyAsync(Socket from, Socket to)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                    if (read == 0)
                    {
                        to.Shutdown(SocketShutdown.Send);
                        return;
                    }

                    var sent = 0;
                    while (sent < read)
                    {
                        sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None);
                    }
                }
            }
            catch (Exception error) when (error is SocketException or ObjectDisposedException)
            {
                Close();
            }
        }

        public void Close()
        {
            if (Interlocked.Exchange(ref closed, 1) == 0)
            {
                client.Dispose();
                backend.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Service {Service} port \"{Port}\": proxying {Address} to {Endpoints} ready endpoint(s)")]
        public static partial void Listening(ILogger logger, string service, string port, IPEndPoint address, int endpoints);

        [LoggerMessage(Level = LogLevel.Information, Message = "Service {Service}: no longer proxying {Address} (no ready endpoint, or the port is gone)")]
        public static partial void Stopped(ILogger logger, string service, IPEndPoint address);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Service {Service} port \"{Port}\": cannot listen on {Address}, so it is not reachable at its cluster IP: {Reason}")]
        public static partial void CannotListen(ILogger logger, string service, string port, IPEndPoint address, string reason);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Service {Service}: endpoint {Endpoint} refused a connection: {Reason}")]
        public static partial void EndpointFailed(ILogger logger, string service, IPEndPoint endpoint, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Service {Service}: a connection to {Address} was closed because no endpoint accepted it")]
        public static partial void NoEndpointAccepted(ILogger logger, string service, IPEndPoint address);
    }
}
