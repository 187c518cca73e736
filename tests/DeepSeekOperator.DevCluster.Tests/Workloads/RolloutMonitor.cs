using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Tests.Workloads;

/// <summary>
/// Follows every committed change of the pods and ReplicaSets labelled <c>app: &lt;app&gt;</c>, one revision at a time,
/// and keeps the extremes a rollout must respect: the most replicas the ReplicaSets asked for together, the fewest
/// ready pods not being deleted, and the most pod template hashes running side by side.
/// </summary>
internal sealed class RolloutMonitor : IDisposable
{
    private readonly string app;
    private readonly Dictionary<string, long> replicaSets = [];
    private readonly Dictionary<string, (bool Ready, bool Active, string Hash)> pods = [];
    private readonly ObjectStore.Subscription subscription;
    private readonly Task reading;
    private long revision;

    public RolloutMonitor(ApiServer server, string app)
    {
        this.app = app;
        var store = server.Objects.Store;

        // Subscribe and read the starting state under the store's lock, so that no change falls between them.
        var (at, changes, replicaSetSnapshot, podSnapshot) = store.Write(writer =>
        {
            var (_, at, changes) = store.WatchWithSnapshot(null, null);
            return (at, changes, writer.List("apps/replicasets", "default"), writer.List("pods", "default"));
        });
        subscription = changes;
        revision = at;
        foreach (var item in replicaSetSnapshot)
        {
            Apply("apps/replicasets", item, deleted: false);
        }

        foreach (var item in podSnapshot)
        {
            Apply("pods", item, deleted: false);
        }

        Reset();
        reading = ReadAsync();
    }

    public long MaxRequested { get; private set; }

    /// <summary>Every ReplicaSet change seen, with the replicas asked for in all after it, to explain a failure.</summary>
    public string Trace { get; private set; } = "";

    public long MinReady { get; private set; }

    public int MaxHashesRunning { get; private set; }

    /// <summary>Forgets the extremes seen so far (a rollout's bounds hold from its start).</summary>
    public void Reset()
    {
        lock (pods)
        {
            MaxRequested = replicaSets.Values.Sum();
            MinReady = pods.Values.Count(p => p.Ready && p.Active);
            MaxHashesRunning = pods.Values.Where(p => p.Active).Select(p => p.Hash).Distinct().Count();
        }
    }

    /// <summary>Waits until every change up to <paramref name="target"/> has been taken in.</summary>
    public async Task CatchUpAsync(long target)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (Interlocked.Read(ref revision) < target)
        {
            Assert.True(DateTime.UtcNow < until, $"the monitor did not reach revision {target}");
            await Task.Delay(10);
        }
    }

    public void Dispose()
    {
        subscription.Dispose();
        try
        {
            reading.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task ReadAsync()
    {
        await foreach (var change in subscription.Reader.ReadAllAsync())
        {
            if (change.StorageKey is "apps/replicasets" or "pods")
            {
                lock (pods)
                {
                    Apply(change.StorageKey, change.Object, change.Type == StoreEventType.Deleted);
                    if (change.StorageKey == "apps/replicasets")
                    {
                        Trace += $"\n{change.Revision} {change.Type} {change.Object.Name} spec={Json.Int64(change.Object.Value["spec"]?["replicas"])} sum={replicaSets.Values.Sum()}";
                    }

                    MaxRequested = Math.Max(MaxRequested, replicaSets.Values.Sum());
                    MinReady = Math.Min(MinReady, pods.Values.Count(p => p.Ready && p.Active));
                    MaxHashesRunning = Math.Max(MaxHashesRunning, pods.Values.Where(p => p.Active).Select(p => p.Hash).Distinct().Count());
                }
            }

            Interlocked.Exchange(ref revision, change.Revision);
        }
    }

    private void Apply(string storageKey, StoredObject item, bool deleted)
    {
        if (Meta.Labels(item.Value).GetValueOrDefault("app") != app)
        {
            return;
        }

        if (storageKey == "pods")
        {
            if (deleted)
            {
                pods.Remove(item.Uid);
                return;
            }

            var pod = item.Value;
            var ready = (pod["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True") == true;
            pods[item.Uid] = (ready, !Meta.IsDeleting(pod), Meta.Labels(pod).GetValueOrDefault("pod-template-hash") ?? "");
        }
        else if (deleted)
        {
            replicaSets.Remove(item.Uid);
        }
        else
        {
            replicaSets[item.Uid] = Json.Int64(item.Value["spec"]?["replicas"]) ?? 1;
        }
    }
}
