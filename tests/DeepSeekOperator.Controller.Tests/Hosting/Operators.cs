using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.DevCluster.Tests;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Tests.Hosting;

/// <summary>
/// An emulated cluster with a kubeconfig for it, and operator hosts on it running a small real controller: it stamps
/// the identity of the replica that reconciled it on every ConfigMap labelled <c>test=stamp</c> in <c>watched</c>.
/// </summary>
internal sealed class Operators : IAsyncDisposable
{
    public const string Namespace = "watched";
    public const string StampedBy = "test.deepseek-operator.io/reconciled-by";

    // Short enough for failover tests of a few seconds, still valid as client-go requires, and with a renew
    // deadline a loaded two-core machine meets (at 1 s, a busy build made leaders lose their lease mid-test).
    public static readonly OperatorHostOptions Fast = new()
    {
        BindAddress = "127.0.0.1",
        Port = 0,
        LeaseDuration = TimeSpan.FromSeconds(4),
        RenewDeadline = TimeSpan.FromSeconds(3),
        RetryPeriod = TimeSpan.FromMilliseconds(500),
    };

    private readonly List<OperatorHost> hosts = [];
    private readonly string directory;

    private Operators(RunningApiServer api, string directory)
    {
        Api = api;
        this.directory = directory;
    }

    public RunningApiServer Api { get; }

    public Kubernetes Client => Api.Client;

    public string Kubeconfig => Path.Combine(directory, "kubeconfig");

    public static async Task<Operators> StartAsync()
    {
        var api = await RunningApiServer.StartAsync();
        var directory = Directory.CreateTempSubdirectory("dsop-operator-").FullName;
        api.Server.WriteKubeconfig(Path.Combine(directory, "kubeconfig"));
        await api.Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        return new Operators(api, directory);
    }

    /// <summary>A host named <paramref name="identity"/> running the stamping controller (or <paramref name="controller"/>).</summary>
    public async Task<OperatorHost> StartHostAsync(string identity, Func<OperatorHostOptions, OperatorHostOptions>? tweak = null, ControllerFactory? controller = null)
    {
        var options = Fast with { Identity = identity, Kubeconfig = Kubeconfig };
        var host = await OperatorHost.StartAsync(tweak?.Invoke(options) ?? options, [controller ?? Stamping(identity)], logging => logging.ClearProviders());
        hosts.Add(host);
        return host;
    }

    /// <summary>
    /// Starts <c>operator-a</c> and, once it leads, <c>operator-b</c>; returns when a's controller has stamped the
    /// ConfigMap <c>one</c>.
    /// </summary>
    public async Task<(OperatorHost Leader, OperatorHost Standby)> StartLeaderThenStandbyAsync(
        Func<OperatorHostOptions, OperatorHostOptions>? tweakLeader = null,
        Func<OperatorHostOptions, OperatorHostOptions>? tweakStandby = null)
    {
        var within = TimeSpan.FromSeconds(10);
        var a = await StartHostAsync("operator-a", tweakLeader);
        await LeaderAsync(within, a);
        var b = await StartHostAsync("operator-b", tweakStandby);
        await CreateConfigMapAsync("one");
        await StampedAsync("one", "operator-a", within);
        return (a, b);
    }

    /// <summary>The stamping controller of the replica <paramref name="identity"/>.</summary>
    public static ControllerFactory Stamping(string identity) => (client, loggers, registry) =>
    {
        var informer = new Informer<V1ConfigMap>(client, new InformerOptions { Namespace = Namespace, LabelSelector = "test=stamp" }, TimeProvider.System, loggers.CreateLogger<Informer<V1ConfigMap>>());
        var queue = new WorkQueue<ObjectKey>(TimeProvider.System, new ExponentialRateLimiter<ObjectKey>());
        informer.AddHandlers(new InformerHandlers<V1ConfigMap>
        {
            Added = map => queue.Add(ObjectKey.Of(map)),
            Updated = (_, map) => queue.Add(ObjectKey.Of(map)),
        });
        var controller = new ReconcileController(
            new StampingReconciler(informer, client, identity),
            queue,
            [informer],
            new ControllerOptions { Name = "test", Workers = 2, ShutdownTimeout = TimeSpan.FromSeconds(5) },
            registry,
            TimeProvider.System,
            loggers.CreateLogger<ReconcileController>());
        return new ManagedController(controller, [informer]);
    };

    public Task CreateConfigMapAsync(string name) =>
        Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["test"] = "stamp" } } },
            Namespace);

    /// <summary>Waits until the ConfigMap <paramref name="name"/> is stamped by <paramref name="identity"/>.</summary>
    public Task StampedAsync(string name, string identity, TimeSpan within) =>
        EventuallyAsync(async () => (await StampOfAsync(name)) == identity, within, $"{Namespace}/{name} stamped by {identity}");

    public async Task<string?> StampOfAsync(string name)
    {
        return Stamp(await Client.CoreV1.ReadNamespacedConfigMapAsync(name, Namespace));
    }

    public async Task<string?> HolderAsync(string lease = OperatorHostOptions.DefaultLeaseName) =>
        (await Client.CoordinationV1.ReadNamespacedLeaseAsync(lease, "default")).Spec.HolderIdentity;

    /// <summary>Waits until one of <paramref name="candidates"/> leads, and returns it.</summary>
    public static async Task<OperatorHost> LeaderAsync(TimeSpan within, params OperatorHost[] candidates)
    {
        await EventuallyAsync(() => Task.FromResult(candidates.Any(host => host.IsLeader)), within, "a leader");
        return candidates.Single(host => host.IsLeader);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after <paramref name="within"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > within)
            {
                Assert.Fail($"Not {what} within {within}");
            }

            await Task.Delay(20);
        }
    }

    public static async Task<(int Status, string Body)> GetAsync(OperatorHost host, string path)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"http://{host.Endpoint}{path}"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The value of <paramref name="series"/> in the host's <c>/metrics</c>, or null when it is not exported.</summary>
    public static async Task<double?> MetricAsync(OperatorHost host, string series)
    {
        var (_, metrics) = await GetAsync(host, "/metrics");
        var line = metrics.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static string? Stamp(V1ConfigMap map) =>
        map.Metadata.Annotations is { } annotations && annotations.TryGetValue(StampedBy, out var identity) ? identity : null;

    public async ValueTask DisposeAsync()
    {
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }

        await Api.DisposeAsync();
        Directory.Delete(directory, recursive: true);
    }

    // Stamps the replica's identity on each ConfigMap it sees, unless it is already there.
    private sealed class StampingReconciler(Informer<V1ConfigMap> cache, Kubernetes client, string identity) : IReconciler
    {
        public async Task<ReconcileResult> ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
        {
            var map = cache.Get(key);
            if (map is null || Stamp(map) == identity)
            {
                return ReconcileResult.Done;
            }

            var patch = JsonSerializer.Serialize(new { metadata = new { annotations = new Dictionary<string, string> { [StampedBy] = identity } } });
            await client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), key.Name, key.Namespace, cancellationToken: cancellationToken);
            return ReconcileResult.Done;
        }
    }
}
