using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using DeepSeekOperator.DevCluster;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>A figure a measurement aims for: at least (a rate) or at most (a latency) <see cref="Value"/>.</summary>
internal sealed record ApiBenchmarkTarget(double Value, bool AtLeast)
{
    public bool IsMetBy(double value) => AtLeast ? value >= Value : value <= Value;

    public override string ToString() => (AtLeast ? "≥ " : "≤ ") + Value.ToString("0.##", CultureInfo.InvariantCulture);
}

/// <summary>One row of the API benchmark table.</summary>
/// <param name="Storage">Where the server keeps objects: in memory, or journaled to a state directory.</param>
/// <param name="Name">What was measured.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Target">What it aims for, where there is a target.</param>
internal sealed record ApiBenchmarkRow(string Storage, string Name, double Value, string Unit, ApiBenchmarkTarget? Target = null)
{
    /// <summary>The value over the target: at least 1 meets an "at least" target, at most 1 an "at most" one.</summary>
    public double? OfTarget => Target is null ? null : Value / Target.Value;
}

/// <summary>
/// Measures the development API server through the official KubernetesClient over HTTPS, as an operator uses it:
/// one client shared by every task, so requests are multiplexed over HTTP/2 as client-go does. Measured in one
/// process (server and clients share the CPU): ConfigMap creates per second from concurrent tasks; the latency of
/// listing every ConfigMap of a large namespace and of one page of it; and the latency from sending an update to each
/// of many watchers of the namespace receiving its event. The write measurements run twice: with objects in memory
/// and with a state directory, where every write is journaled before it is acknowledged. Both servers first run the
/// same measurements unrecorded, so that JIT compilation (tiering and dynamic PGO), connection setup and the growth
/// of the heap are not measured; each server then holds twice as many ConfigMaps, in two namespaces.
/// </summary>
internal static class ApiBenchmark
{
    private const string InMemory = "memory";
    private const string Journaled = "state dir";
    private const string WatchedName = "watched";
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs every measurement, reporting each row as it completes.</summary>
    public static async Task<IReadOnlyList<ApiBenchmarkRow>> RunAsync(Action<string> progress, bool quick, CancellationToken cancellationToken)
    {
        var sizes = quick ? Sizes.Quick : Sizes.Full;
        var rows = new List<ApiBenchmarkRow>();
        void Add(ApiBenchmarkRow row)
        {
            rows.Add(row);
            progress($"  {row.Name} ({row.Storage}): {row.Value:0.0} {row.Unit}");
        }

        var stateDirectory = Path.Combine(Path.GetTempPath(), $"dsop-bench-api-{Guid.NewGuid():N}");
        try
        {
            var memory = await ApiServer.StartAsync(new ApiServerOptions { HttpPort = null }, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using (memory.ConfigureAwait(false))
            {
                var journaled = await ApiServer.StartAsync(new ApiServerOptions { HttpPort = null, StateDirectory = stateDirectory }, cancellationToken: cancellationToken).ConfigureAwait(false);
                await using (journaled.ConfigureAwait(false))
                {
                    using var memoryClient = CreateClient(memory);
                    using var journaledClient = CreateClient(journaled);
                    progress($"client over HTTP/{await ProtocolAsync(memoryClient, cancellationToken).ConfigureAwait(false)}; warming up both servers...");
                    await MeasureAsync(memoryClient, InMemory, sizes, lists: true, _ => { }, cancellationToken).ConfigureAwait(false);
                    await MeasureAsync(journaledClient, Journaled, sizes, lists: false, _ => { }, cancellationToken).ConfigureAwait(false);
                    progress("measuring the server in memory...");
                    await MeasureAsync(memoryClient, InMemory, sizes, lists: true, Add, cancellationToken).ConfigureAwait(false);
                    progress($"measuring the server with a state directory ({stateDirectory})...");
                    await MeasureAsync(journaledClient, Journaled, sizes, lists: false, Add, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            Directory.Delete(stateDirectory, recursive: true);
        }

        return rows;
    }

    /// <summary>The rows as a Markdown table.</summary>
    public static string ToMarkdown(IEnumerable<ApiBenchmarkRow> rows)
    {
        var text = new StringBuilder("| storage | measurement | value | unit | target | of target | met |\n|---|---|---:|---|---:|---:|---|\n");
        foreach (var row in rows)
        {
            var ofTarget = row.OfTarget is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "";
            var met = row.Target is null ? "" : row.Target.IsMetBy(row.Value) ? "yes" : "no";
            text.Append(CultureInfo.InvariantCulture, $"| {row.Storage} | {row.Name} | {row.Value:0.0} | {row.Unit} | {row.Target} | {ofTarget} | {met} |\n");
        }

        return text.ToString();
    }

    private static Kubernetes CreateClient(ApiServer server) => new(new KubernetesClientConfiguration
    {
        Host = server.HttpsUri.ToString(),
        AccessToken = server.Token,
        SslCaCerts = [X509Certificate2.CreateFromPem(server.CertificateAuthorityPem)],
    });

    private static async Task<string> ProtocolAsync(Kubernetes client, CancellationToken cancellationToken)
    {
        using var response = await client.CoreV1.ListNamespaceWithHttpMessagesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Response.Version.ToString();
    }

    private static async Task MeasureAsync(Kubernetes client, string storage, Sizes sizes, bool lists, Action<ApiBenchmarkRow> add, CancellationToken cancellationToken)
    {
        var ns = await CreateNamespaceAsync(client, "bench-creates", cancellationToken).ConfigureAwait(false);
        var seconds = await CreateConfigMapsAsync(client, ns, sizes.Objects, sizes.Clients, cancellationToken).ConfigureAwait(false);
        add(new ApiBenchmarkRow(storage, $"ConfigMap creates, {sizes.Clients} concurrent tasks", sizes.Objects / seconds, "creates/s", new ApiBenchmarkTarget(2000, AtLeast: true)));
        if (lists)
        {
            var full = await ListLatenciesAsync(client, ns, sizes.Objects, null, sizes.Lists, cancellationToken).ConfigureAwait(false);
            var name = $"list {sizes.Objects} ConfigMaps";
            add(new ApiBenchmarkRow(storage, $"{name}, p50", Percentile(full, 0.50), "ms"));
            add(new ApiBenchmarkRow(storage, $"{name}, p99", Percentile(full, 0.99), "ms"));
            var page = await ListLatenciesAsync(client, ns, sizes.Page, sizes.Page, sizes.Lists, cancellationToken).ConfigureAwait(false);
            name = $"list limit={sizes.Page} of {sizes.Objects}";
            add(new ApiBenchmarkRow(storage, $"{name}, p50", Percentile(page, 0.50), "ms"));
            add(new ApiBenchmarkRow(storage, $"{name}, p99", Percentile(page, 0.99), "ms"));
        }

        var watchNs = await CreateNamespaceAsync(client, "bench-watch", cancellationToken).ConfigureAwait(false);
        var latencies = await WatchLatenciesAsync(client, watchNs, sizes.Watchers, sizes.Updates, cancellationToken).ConfigureAwait(false);
        var watch = $"update → watch event, {sizes.Watchers} watchers";
        add(new ApiBenchmarkRow(storage, $"{watch}, p50", Percentile(latencies, 0.50), "ms"));
        add(new ApiBenchmarkRow(storage, $"{watch}, p99", Percentile(latencies, 0.99), "ms", new ApiBenchmarkTarget(20, AtLeast: false)));
    }

    private static async Task<string> CreateNamespaceAsync(Kubernetes client, string prefix, CancellationToken cancellationToken)
    {
        var created = await client.CoreV1.CreateNamespaceAsync(
            new V1Namespace { Metadata = new V1ObjectMeta { GenerateName = prefix + "-" } }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return created.Metadata.Name;
    }

    /// <summary>Creates <paramref name="count"/> ConfigMaps from <paramref name="tasks"/> concurrent tasks; returns the seconds it took.</summary>
    private static async Task<double> CreateConfigMapsAsync(Kubernetes client, string ns, int count, int tasks, CancellationToken cancellationToken)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(_ => Task.Run(
            async () =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < count)
                {
                    await client.CoreV1.CreateNamespacedConfigMapAsync(ConfigMap(index), ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
            },
            cancellationToken))).ConfigureAwait(false);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>A small ConfigMap, as applications keep settings in: a label and two short keys (about 300 bytes of JSON).</summary>
    private static V1ConfigMap ConfigMap(int index) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = $"settings-{index:D6}",
            Labels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "bench" },
        },
        Data = new Dictionary<string, string>
        {
            ["index"] = index.ToString(CultureInfo.InvariantCulture),
            ["settings.yaml"] = "logLevel: info\nreplicas: 3\nendpoint: http://backend.example:8080/v1\n",
        },
    };

    /// <summary>
    /// Lists the namespace <paramref name="times"/> times, one list at a time; each must return at least <paramref name="expected"/>
    /// items (the namespace also holds the <c>kube-root-ca.crt</c> ConfigMap every namespace gets).
    /// </summary>
    private static async Task<double[]> ListLatenciesAsync(Kubernetes client, string ns, int expected, int? limit, int times, CancellationToken cancellationToken)
    {
        var latencies = new double[times];
        for (var i = 0; i < times; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var list = await client.CoreV1.ListNamespacedConfigMapAsync(ns, limit: limit, cancellationToken: cancellationToken).ConfigureAwait(false);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (list.Items.Count < expected)
            {
                throw new InvalidOperationException($"listed {list.Items.Count} ConfigMaps in {ns}, expected at least {expected}");
            }
        }

        return latencies;
    }

    /// <summary>
    /// Starts <paramref name="watchers"/> watches of the namespace, then updates one ConfigMap <paramref name="updates"/>
    /// times, one update at a time, each after every watcher received the previous one. Returns, for every update and
    /// every watcher, the milliseconds from sending the update to that watcher receiving its event. A few updates
    /// before those measured let every watch connect.
    /// </summary>
    private static async Task<double[]> WatchLatenciesAsync(Kubernetes client, string ns, int watchers, int updates, CancellationToken cancellationToken)
    {
        const int Unmeasured = 3;
        var rounds = Unmeasured + updates;
        var current = await client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = WatchedName }, Data = new Dictionary<string, string> { ["round"] = "-1" } },
            ns,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var sent = new long[rounds];
        var received = new long[rounds * watchers];
        var pending = Enumerable.Repeat(watchers, rounds).ToArray();
        var delivered = Enumerable.Range(0, rounds).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var from = current.Metadata.ResourceVersion;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watches = Enumerable.Range(0, watchers).Select(watcher => Task.Run(async () =>
        {
            var events = client.CoreV1.WatchListNamespacedConfigMapAsync(ns, resourceVersion: from, cancellationToken: stop.Token);
            try
            {
                await foreach (var (type, item) in events.ConfigureAwait(false))
                {
                    var now = Stopwatch.GetTimestamp();
                    if (type == WatchEventType.Modified && int.TryParse(item.Data["round"], CultureInfo.InvariantCulture, out var round))
                    {
                        received[(round * watchers) + watcher] = now;
                        if (Interlocked.Decrement(ref pending[round]) == 0)
                        {
                            delivered[round].TrySetResult();
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        })).ToArray();

        try
        {
            for (var round = 0; round < rounds; round++)
            {
                current.Data["round"] = round.ToString(CultureInfo.InvariantCulture);
                sent[round] = Stopwatch.GetTimestamp();
                current = await client.CoreV1.ReplaceNamespacedConfigMapAsync(current, WatchedName, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
                try
                {
                    await delivered[round].Task.WaitAsync(RoundTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException ex)
                {
                    throw new InvalidOperationException($"{pending[round]} of {watchers} watchers did not receive update {round} within {RoundTimeout.TotalSeconds} s", ex);
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(watches).ConfigureAwait(false);
        }

        var latencies = new double[updates * watchers];
        for (var round = Unmeasured; round < rounds; round++)
        {
            for (var watcher = 0; watcher < watchers; watcher++)
            {
                latencies[((round - Unmeasured) * watchers) + watcher] = Stopwatch.GetElapsedTime(sent[round], received[(round * watchers) + watcher]).TotalMilliseconds;
            }
        }

        return latencies;
    }

    /// <summary>The nearest-rank percentile: the smallest sample with at least <paramref name="fraction"/> of the samples at or below it.</summary>
    private static double Percentile(double[] samples, double fraction)
    {
        var sorted = samples.Order().ToArray();
        return sorted[Math.Max(0, (int)Math.Ceiling(fraction * sorted.Length) - 1)];
    }

    /// <summary>How much each measurement does.</summary>
    private sealed record Sizes(int Objects, int Clients, int Lists, int Page, int Watchers, int Updates)
    {
        public static Sizes Full { get; } = new(Objects: 10_000, Clients: 16, Lists: 20, Page: 500, Watchers: 100, Updates: 200);

        public static Sizes Quick { get; } = new(Objects: 200, Clients: 8, Lists: 3, Page: 50, Watchers: 10, Updates: 10);
    }
}
