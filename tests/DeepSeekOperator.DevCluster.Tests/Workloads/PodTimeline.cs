using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Tests.Workloads;

/// <summary>One committed change of a pod, as the timeline saw it.</summary>
/// <param name="Revision">The store revision of the change.</param>
/// <param name="Name">The pod's name.</param>
/// <param name="Type">Added, modified or deleted.</param>
/// <param name="Ready">Whether the pod was Ready after the change.</param>
/// <param name="Deleting">Whether the pod was being deleted after the change.</param>
/// <param name="RevisionLabel">The pod's <c>controller-revision-hash</c> label.</param>
internal sealed record PodChange(long Revision, string Name, StoreEventType Type, bool Ready, bool Deleting, string RevisionLabel);

/// <summary>Every committed change of pods, in order, for tests that assert what happened before what.</summary>
internal sealed class PodTimeline : IDisposable
{
    private readonly List<PodChange> changes = [];
    private readonly ObjectStore.Subscription subscription;
    private readonly Task reading;
    private long revision;

    public PodTimeline(ApiServer server)
    {
        (_, revision, subscription) = server.Objects.Store.WatchWithSnapshot(null, null);
        reading = ReadAsync();
    }

    /// <summary>The changes seen so far.</summary>
    public IReadOnlyList<PodChange> Changes
    {
        get
        {
            lock (changes)
            {
                return [.. changes];
            }
        }
    }

    /// <summary>The revision of the first change of <paramref name="name"/> that satisfies <paramref name="match"/>; fails when there is none.</summary>
    public long First(string name, Func<PodChange, bool> match, string what) =>
        Changes.FirstOrDefault(c => c.Name == name && match(c))?.Revision ?? throw new Xunit.Sdk.XunitException($"{what} never happened to {name}");

    /// <summary>Waits until every change up to <paramref name="target"/> has been taken in.</summary>
    public async Task CatchUpAsync(long target)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (Interlocked.Read(ref revision) < target)
        {
            Assert.True(DateTime.UtcNow < until, $"the timeline did not reach revision {target}");
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
            if (change.StorageKey == "pods")
            {
                var pod = change.Object.Value;
                var ready = (pod["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True") == true;
                lock (changes)
                {
                    changes.Add(new PodChange(change.Revision, change.Object.Name, change.Type, ready, Meta.IsDeleting(pod), Meta.Labels(pod).GetValueOrDefault("controller-revision-hash") ?? ""));
                }
            }

            Interlocked.Exchange(ref revision, change.Revision);
        }
    }
}
