using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Runtime;
using DeepSeekOperator.DevCluster;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>One row of the operator benchmark table.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Target">What it aims for, where there is a target.</param>
internal sealed record OperatorBenchmarkRow(string Name, double Value, string Unit, ApiBenchmarkTarget? Target = null);

/// <summary>
/// Measures the operator at scale against the development cluster: the cluster (API server, workload controllers,
/// scheduler, simulated pods) runs in this process, the operator as its own <c>dsop operator</c> process, so that its
/// memory and CPU are its own. Once the operator leads, many copies of the tiny synthetic sample are created at once;
/// measured are the time from the first create until every model's Ready condition is True (seen through a watch),
/// the operator's reconciles per second over that time, and its peak resident memory.
/// </summary>
internal static class OperatorBenchmark
{
    /// <summary>How many models a full run creates.</summary>
    public const int DefaultModels = 500;

    /// <summary>How many models a quick run creates.</summary>
    public const int QuickModels = 20;

    private const string Namespace = "bench";
    private const int CreateTasks = 4;

    // The tiny sample runs one router and 4 shards: 5 simulated pods per model, on nodes of the kubelet's default
    // 110 pods, with CPU and memory to spare for that many (0.5 CPU and 512Mi a router at most).
    private const int PodsPerModel = 5;
    private const int PodsPerNode = 110;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>config/samples/tiny-synthetic.yaml: the model every benchmark copy is made of.</summary>
    private const string TinySample = """
        apiVersion: moe.deepseek-operator.io/v1alpha1
        kind: DeepSeekModel
        metadata:
          name: tiny
        spec:
          model:
            source:
              synthetic:
                preset: tiny
                seed: 7
            dtype: float32
          runtime:
            device: cpu
          router:
            replicas: 1
            resources:
              requests: {cpu: 500m, memory: 512Mi}
              limits: {memory: 1Gi}
          experts:
            shards: 4
            replicasPerShard: 1
            resources:
              requests: {cpu: 250m, memory: 256Mi}
              limits: {memory: 512Mi}
          placement:
            strategy: Contiguous
          serving:
            port: 8000
            maxBatchTokens: 1024
            maxConcurrentRequests: 16
        """;

    /// <summary>Runs the benchmark with <paramref name="models"/> models, reporting progress as it goes.</summary>
    /// <exception cref="CommandException">The operator did not start or lead, or the models did not all become Ready in time.</exception>
    public static async Task<IReadOnlyList<OperatorBenchmarkRow>> RunAsync(int models, Action<string> progress, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(models, 1);
        var nodes = ((models * PodsPerModel) + PodsPerNode - 1) / PodsPerNode;
        var cluster = await DevCluster.DevCluster.StartAsync(
            new DevClusterOptions
            {
                Api = new ApiServerOptions { HttpsPort = 0, HttpPort = null },
                Nodes = [.. Enumerable.Range(1, nodes).Select(i => new DevNode($"bench-node-{i}", "64", "256Gi", Pods: PodsPerNode))],
            },
            cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (cluster.ConfigureAwait(false))
        {
            var directory = Directory.CreateTempSubdirectory("dsop-bench-operator-").FullName;
            try
            {
                var kubeconfig = Path.Combine(directory, "kubeconfig");
                cluster.Api.WriteKubeconfig(kubeconfig);
                using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
                await InstallAsync(client, time, cancellationToken).ConfigureAwait(false);
                progress($"dev cluster on {cluster.Api.HttpsUri} with {nodes} nodes of {PodsPerNode} pods; starting the operator...");
                var process = await OperatorProcess.StartAsync(kubeconfig, time, cancellationToken).ConfigureAwait(false);
                await using (process.ConfigureAwait(false))
                {
                    await process.WaitForLeadershipAsync(cancellationToken).ConfigureAwait(false);
                    progress($"operator (pid {process.Id}) leads, metrics on {process.Metrics}; creating {models} models...");
                    return await MeasureAsync(cluster.Api, client, process, models, progress, time, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>The rows as a Markdown table.</summary>
    public static string ToMarkdown(IEnumerable<OperatorBenchmarkRow> rows)
    {
        var text = new StringBuilder("| measurement | value | unit | target | of target | met |\n|---|---:|---|---:|---:|---|\n");
        foreach (var row in rows)
        {
            var ofTarget = row.Target is null ? "" : (row.Value / row.Target.Value).ToString("0.00", CultureInfo.InvariantCulture);
            var met = row.Target is null ? "" : row.Target.IsMetBy(row.Value) ? "yes" : "no";
            text.Append(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Value:0.0} | {row.Unit} | {row.Target} | {ofTarget} | {met} |\n");
        }

        return text.ToString();
    }

    private static async Task<IReadOnlyList<OperatorBenchmarkRow>> MeasureAsync(
        ApiServer api, Kubernetes client, OperatorProcess process, int models, Action<string> progress, TimeProvider time, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var informer = new Informer<DeepSeekModel>(client, new InformerOptions { Namespace = Namespace }, time, NullLogger<Informer<DeepSeekModel>>.Instance);
        var ready = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var allReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = 0L;
        void Seen(DeepSeekModel model)
        {
            var isReady = model.Status?.Conditions?.Any(c => c.Type == ConditionTypes.Ready && c.Status == "True") == true;
            if (!isReady || !ready.TryAdd(model.Metadata.Name, true))
            {
                return;
            }

            // Progress at every tenth of the models, so that a slow start or a long tail shows.
            var count = ready.Count;
            if (count * 10 / models != (count - 1) * 10 / models)
            {
                progress($"  {count} of {models} Ready after {time.GetElapsedTime(start).TotalSeconds:0.0} s");
            }

            if (count == models)
            {
                allReady.TrySetResult();
            }
        }

        informer.AddHandlers(new InformerHandlers<DeepSeekModel> { Added = Seen, Changed = Seen });
        var watching = informer.RunAsync(stop.Token);
        try
        {
            await informer.WaitForSyncAsync(cancellationToken).ConfigureAwait(false);
            var writesBefore = api.Revision;
            var operatorCpuBefore = process.CpuTime;
            var benchCpuBefore = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
            start = time.GetTimestamp();
            await CreateModelsAsync(client, models, cancellationToken).ConfigureAwait(false);
            var created = time.GetElapsedTime(start);
            progress($"created {models} models in {created.TotalSeconds:0.0} s; waiting until every one is Ready...");
            try
            {
                await allReady.Task.WaitAsync(ReadyTimeout, time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new CommandException($"{models - ready.Count} of {models} models were not Ready within {ReadyTimeout.TotalMinutes:0} minutes", ex);
            }

            var elapsed = time.GetElapsedTime(start);
            var writes = api.Revision - writesBefore;
            var operatorCpu = process.CpuTime - operatorCpuBefore;
            var benchCpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - benchCpuBefore;
            var (reconciles, errors) = await process.ReconcilesAsync(cancellationToken).ConfigureAwait(false);
            var (peak, resident) = process.Memory();
            var seconds = elapsed.TotalSeconds;
            progress($"every model Ready after {seconds:0.0} s");
            return
            [
                new($"DeepSeekModels created (tiny synthetic sample, {PodsPerModel} simulated pods each)", models, "models"),
                new($"creates, {CreateTasks} concurrent tasks", models / created.TotalSeconds, "creates/s"),
                new("first create → every model Ready", seconds, "s", new ApiBenchmarkTarget(60, AtLeast: false)),
                new("reconciles (dsop_reconcile_total, every result)", reconciles, "reconciles"),
                new("reconciles per second", reconciles / seconds, "reconciles/s"),
                new("reconcile errors (dsop_reconcile_errors_total)", errors, "errors"),
                new("operator peak RSS (VmHWM)", peak / 1e6, "MB", new ApiBenchmarkTarget(200, AtLeast: false)),
                new("operator RSS when every model is Ready (VmRSS)", resident / 1e6, "MB"),
                new("operator CPU time", operatorCpu.TotalSeconds, "s"),
                new("bench process CPU time (API server, dev-cluster controllers, simulated pods, watch)", benchCpu.TotalSeconds, "s"),
                new("API server writes, every client", writes / seconds, "writes/s"),
            ];
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await watching.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    // The CRD and the namespace, then a list of the new kind until the API server serves it.
    private static async Task InstallAsync(Kubernetes client, TimeProvider time, CancellationToken cancellationToken)
    {
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: cancellationToken).ConfigureAwait(false);
        while (true)
        {
            try
            {
                await client.CustomObjects.ListNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, cancellationToken: cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
                await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // bench-0000, bench-0001, ... from a few concurrent tasks, as fast as the API server takes them.
    private static async Task CreateModelsAsync(Kubernetes client, int models, CancellationToken cancellationToken)
    {
        var read = DeepSeekModelManifest.Read(TinySample);
        var json = KubernetesJson.Serialize(read.Model ?? throw new InvalidOperationException("the tiny sample is invalid: " + string.Join("; ", read.Errors)));
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, CreateTasks).Select(_ => Task.Run(
            async () =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < models)
                {
                    var model = KubernetesJson.Deserialize<DeepSeekModel>(json);
                    model.Metadata = new V1ObjectMeta { Name = $"bench-{index:D4}", NamespaceProperty = Namespace };
                    await client.CustomObjects.CreateNamespacedCustomObjectAsync(
                        model, DeepSeekModel.Group, DeepSeekModel.Version, Namespace, DeepSeekModel.Plural, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
            },
            cancellationToken))).ConfigureAwait(false);
    }
}
