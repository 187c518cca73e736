using System.Globalization;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// What <c>kubernetes_sd_configs</c> with the relabelling of <c>config/prometheus/prometheus.yml</c> gives Prometheus,
/// for a Prometheus built without Kubernetes discovery (Debian's): it keeps a <c>file_sd</c> target file in step with
/// the running router and shard pods that ask to be scraped, each pod's IP and <c>prometheus.io/port</c> as the target,
/// <c>prometheus.io/path</c> as the metrics path, and the labels <c>namespace</c>, <c>pod</c>, <c>model</c>,
/// <c>component</c> and <c>shard</c> the autoscaler's queries select on.
/// </summary>
internal sealed class PodScrapeTargets : IAsyncDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);
    private readonly Kubernetes client;
    private readonly string path;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;
    private string written = "";

    private PodScrapeTargets(Kubernetes client, string path)
    {
        (this.client, this.path) = (client, path);
        loop = RunAsync();
    }

    /// <summary>How many times listing the pods failed (the file is left as it was each time).</summary>
    public int Failures { get; private set; }

    /// <summary>Writes an empty target file at <paramref name="path"/> and keeps it up to date until disposed.</summary>
    public static PodScrapeTargets Start(Kubernetes client, string path)
    {
        File.WriteAllText(path, "[]");
        return new PodScrapeTargets(client, path);
    }

    /// <summary>The target groups of the pods in <paramref name="pods"/>, as the kubernetes_sd relabelling would make them.</summary>
    public static IReadOnlyList<object> Groups(IEnumerable<V1Pod> pods) =>
        [.. pods
            .Where(pod => Get(pod.Metadata.Labels, "app.kubernetes.io/name") == "deepseek-model"
                && Get(pod.Metadata.Annotations, "prometheus.io/scrape") == "true"
                && pod.Status?.Phase is not (null or "Pending" or "Succeeded" or "Failed")
                && !string.IsNullOrEmpty(pod.Status.PodIP)
                && pod.Metadata.Annotations.ContainsKey("prometheus.io/port"))
            .OrderBy(pod => pod.Metadata.Name, StringComparer.Ordinal)
            .Select(pod =>
            {
                var labels = pod.Metadata.Labels!;
                var target = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["__metrics_path__"] = Get(pod.Metadata.Annotations, "prometheus.io/path") ?? "/metrics",
                    ["namespace"] = pod.Metadata.NamespaceProperty,
                    ["pod"] = pod.Metadata.Name,
                    ["model"] = Get(labels, "app.kubernetes.io/instance") ?? "",
                    ["component"] = Get(labels, "app.kubernetes.io/component") ?? "",
                };
                if (labels.TryGetValue("moe.deepseek-operator.io/shard", out var shard))
                {
                    target["shard"] = shard;
                }

                var port = int.Parse(pod.Metadata.Annotations["prometheus.io/port"], CultureInfo.InvariantCulture);
                return (object)new { targets = new[] { $"{pod.Status.PodIP}:{port.ToString(CultureInfo.InvariantCulture)}" }, labels = target };
            })];

    private static string? Get(IDictionary<string, string>? map, string key) => map is not null && map.TryGetValue(key, out var value) ? value : null;

    /// <summary>Stops following the pods.</summary>
    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(Period);
        do
        {
            try
            {
                var pods = await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: "app.kubernetes.io/name=deepseek-model", cancellationToken: stop.Token);
                var json = JsonSerializer.Serialize(Groups(pods.Items));
                if (json != written)
                {
                    // Prometheus watches the file: a rename replaces it whole, so it never reads half a file.
                    var temporary = path + ".tmp";
                    await File.WriteAllTextAsync(temporary, json, stop.Token);
                    File.Move(temporary, path, overwrite: true);
                    written = json;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or k8s.Autorest.HttpOperationException or IOException)
            {
                Failures++;
            }
        }
        while (await timer.WaitForNextTickAsync(stop.Token));
    }
}
