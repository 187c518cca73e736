using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>What a refused request answered: the <c>metav1.Status</c> in its body, checked against the HTTP code.</summary>
internal static class Refusal
{
    public static async Task<V1Status> StatusOfAsync(Func<Task> request)
    {
        var error = await Assert.ThrowsAsync<HttpOperationException>(request);
        var status = KubernetesJson.Deserialize<V1Status>(error.Response.Content);
        Assert.Equal("Failure", status.Status);
        Assert.Equal((int)error.Response.StatusCode, status.Code);
        return status;
    }
}

/// <summary>Waits for what controllers do in their own time: a poll with a deadline, never a fixed sleep.</summary>
internal static class Eventually
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>Reads until <paramref name="done"/> holds and returns that reading; fails at the deadline.</summary>
    public static async Task<T> ReadAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"{what} did not happen within {Deadline.TotalSeconds} s");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Reads until the read answers 404 Not Found.</summary>
    public static async Task GoneAsync(Func<Task> read, string what)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                await read();
            }
            catch (HttpOperationException error) when (error.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return;
            }

            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"{what} was still there after {Deadline.TotalSeconds} s");
            }

            await Task.Delay(20);
        }
    }
}

/// <summary>The events of one watch, read in the background as they arrive, for a test to take in order.</summary>
internal sealed class WatchEvents<T> : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly Channel<(WatchEventType Type, T Object)> events = Channel.CreateUnbounded<(WatchEventType, T)>();
    private readonly Channel<Exception> errors = Channel.CreateUnbounded<Exception>();
    private readonly CancellationTokenSource stop = new();
    private readonly Task reading;

    private WatchEvents(Func<Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> open)
    {
        reading = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in open(error => errors.Writer.TryWrite(error), stop.Token))
                {
                    events.Writer.TryWrite(item);
                }

                events.Writer.TryComplete();
            }
            catch (Exception error)
            {
                events.Writer.TryComplete(error);
            }
        });
    }

    /// <summary>Starts a watch; <paramref name="open"/> calls one of the client's <c>WatchList…Async</c> methods.</summary>
    public static WatchEvents<T> Start(Func<Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, T)>> open) => new(open);

    /// <summary>The next event; fails when none comes before the deadline.</summary>
    public async Task<(WatchEventType Type, T Object)> NextAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        try
        {
            return await events.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"no watch event within {Deadline.TotalSeconds} s");
            throw;
        }
    }

    /// <summary>The next <paramref name="count"/> events.</summary>
    public async Task<List<(WatchEventType Type, T Object)>> TakeAsync(int count)
    {
        var taken = new List<(WatchEventType, T)>();
        while (taken.Count < count)
        {
            taken.Add(await NextAsync());
        }

        return taken;
    }

    /// <summary>Events up to and including the first that <paramref name="last"/> accepts.</summary>
    public async Task<List<(WatchEventType Type, T Object)>> TakeUntilAsync(Func<(WatchEventType Type, T Object), bool> last)
    {
        var taken = new List<(WatchEventType Type, T Object)>();
        while (true)
        {
            var next = await NextAsync();
            taken.Add(next);
            if (last(next))
            {
                return taken;
            }
        }
    }

    /// <summary>The first error the watch reported (an ERROR event arrives as a <see cref="KubernetesException"/>).</summary>
    public async Task<Exception> ErrorAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        return await errors.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>Waits for the server to end the watch and returns the events that were still unread.</summary>
    public async Task<List<(WatchEventType Type, T Object)>> EndAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var rest = new List<(WatchEventType, T)>();
        await foreach (var item in events.Reader.ReadAllAsync(timeout.Token))
        {
            rest.Add(item);
        }

        return rest;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await reading;
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }
}

/// <summary>Objects the tests create, built as a user would write them.</summary>
internal static class Objects
{
    public static V1ConfigMap ConfigMap(string name, IDictionary<string, string>? labels = null, IDictionary<string, string>? data = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = labels },
        Data = data ?? new Dictionary<string, string> { ["key"] = "value" },
    };

    public static V1Deployment Deployment(string name, int replicas = 1) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = name } },
                Spec = new V1PodSpec { Containers = [new V1Container { Name = "web", Image = "nginx:1.27" }] },
            },
        },
    };

    public static V1Pod Pod(string name, string? nodeName = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1PodSpec { NodeName = nodeName, Containers = [new V1Container { Name = "main", Image = "busybox:1.36" }] },
    };

    /// <summary>An owner reference to <paramref name="owner"/>, as a controller sets it.</summary>
    public static V1OwnerReference OwnerReference(V1ConfigMap owner, bool blockOwnerDeletion = false) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        BlockOwnerDeletion = blockOwnerDeletion,
    };

    /// <summary>Creates a namespace named after the test, so tests sharing a server never see each other's objects.</summary>
    public static async Task<string> NamespaceAsync(Kubernetes client, string prefix)
    {
        var created = await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { GenerateName = prefix + "-" } });
        return created.Metadata.Name;
    }
}
