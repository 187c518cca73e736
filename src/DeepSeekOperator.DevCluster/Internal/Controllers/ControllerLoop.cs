using System.Text.Json.Nodes;
using System.Threading.Channels;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Controllers;

/// <summary>
/// A level-triggered controller running inside the dev cluster, as kube-controller-manager's loops run beside
/// kube-apiserver: it watches the store's changes, maps each to the keys to reconcile (usually
/// <c>namespace/name</c> of the owning object), and reconciles them on one worker. A key queued twice is reconciled
/// once; a key changed while it is being reconciled is reconciled again afterwards; a failed reconcile is retried with
/// exponential back-off (5 ms doubling to 30 s); <see cref="Enqueue"/> with a delay schedules timed work.
/// Writes go through <see cref="ObjectService"/> like any client's, so they get the same validation and watch events.
/// </summary>
internal abstract partial class ControllerLoop
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(30);
    private readonly Channel<string> ready = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock gate = new();
    private readonly HashSet<string> queued = [];
    private readonly HashSet<string> dirty = [];
    private readonly Dictionary<string, int> failures = [];
    private string? processing;
    private CancellationToken stopping;

    protected ControllerLoop(ObjectService objects, ILoggerFactory loggerFactory, string name)
    {
        Objects = objects;
        Name = name;
        Logger = loggerFactory.CreateLogger($"DeepSeekOperator.DevCluster.{name}");
    }

    /// <summary>The controller's name, also its field manager and the component of its events.</summary>
    public string Name { get; }

    protected ObjectService Objects { get; }

    protected ResourceRegistry Registry => Objects.Registry;

    protected ObjectStore Store => Objects.Store;

    protected TimeProvider Time => Objects.Time;

    protected ILogger Logger { get; }

    /// <summary>Fires when the loop is told to stop.</summary>
    protected CancellationToken Stopping => stopping;

    /// <summary>Write options naming this controller as the field manager.</summary>
    protected WriteOptions Writes => new(FieldManager: Name);

    /// <summary>Runs the controller until <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        stopping = cancellationToken;
        var (_, _, subscription) = Store.WatchWithSnapshot(null, null);
        using (subscription)
        {
            foreach (var key in InitialKeys())
            {
                Enqueue(key);
            }

            var changes = PumpChangesAsync(subscription, cancellationToken);
            try
            {
                await foreach (var key in ready.Reader.ReadAllAsync(cancellationToken))
                {
                    await ProcessAsync(key, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            finally
            {
                Stopped();
            }

            await changes;
        }
    }

    /// <summary>Called once the loop has stopped reconciling, to release what the controller holds outside the API (sockets).</summary>
    protected virtual void Stopped()
    {
    }

    /// <summary>Queues <paramref name="key"/> now, or after <paramref name="delay"/>.</summary>
    public void Enqueue(string key, TimeSpan delay = default)
    {
        if (delay > TimeSpan.Zero)
        {
            _ = EnqueueLaterAsync(key, delay);
            return;
        }

        lock (gate)
        {
            if (processing == key)
            {
                dirty.Add(key);
                return;
            }

            if (!queued.Add(key))
            {
                return;
            }
        }

        ready.Writer.TryWrite(key);
    }

    /// <summary>Whether this controller cares about changes of a resource.</summary>
    protected abstract bool Watches(string storageKey);

    /// <summary>The keys a change makes stale.</summary>
    protected abstract IEnumerable<string> KeysFor(StoreEvent change);

    /// <summary>The keys to reconcile at start (every object the controller owns).</summary>
    protected abstract IEnumerable<string> InitialKeys();

    /// <summary>Brings the world in line with the desired state of <paramref name="key"/>.</summary>
    protected abstract Task ReconcileAsync(string key, CancellationToken cancellationToken);

    /// <summary>The built-in resource type of <paramref name="group"/>/<paramref name="plural"/>.</summary>
    protected ResourceType Type(string group, string plural) =>
        Registry.All.First(t => t.Group == group && t.Plural == plural && t.Custom is null);

    /// <summary>Records a core/v1 Event about <paramref name="regarding"/>, as this controller.</summary>
    protected void RecordEvent(JsonObject regarding, string type, string reason, string message)
    {
        var events = Type("", "events");
        var ns = Meta.Namespace(regarding).Length > 0 ? Meta.Namespace(regarding) : "default";
        var now = Meta.Timestamp(Time.GetUtcNow());
        var apiVersion = regarding["apiVersion"]?.ToString();
        try
        {
            Objects.Create(events, "v1", ns, new JsonObject
            {
                ["metadata"] = new JsonObject { ["generateName"] = Meta.Name(regarding) + "." },
                ["involvedObject"] = new JsonObject
                {
                    ["apiVersion"] = apiVersion,
                    ["kind"] = regarding["kind"]?.ToString(),
                    ["name"] = Meta.Name(regarding),
                    ["namespace"] = Meta.Namespace(regarding).Length > 0 ? Meta.Namespace(regarding) : null,
                    ["uid"] = Meta.Uid(regarding),
                    ["resourceVersion"] = Meta.ResourceVersion(regarding),
                },
                ["reason"] = reason,
                ["message"] = message,
                ["type"] = type,
                ["source"] = new JsonObject { ["component"] = Name },
                ["reportingComponent"] = Name,
                ["reportingInstance"] = Name,
                ["firstTimestamp"] = now,
                ["lastTimestamp"] = now,
                ["count"] = 1,
            }, Writes);
        }
        catch (ApiException error) when (error.Code is 403 or 404)
        {
            // The namespace is gone or going: there is no one left to tell.
        }
    }

    private async Task PumpChangesAsync(ObjectStore.Subscription subscription, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in subscription.Reader.ReadAllAsync(cancellationToken))
            {
                if (!Watches(change.StorageKey))
                {
                    continue;
                }

                foreach (var key in KeysFor(change))
                {
                    Enqueue(key);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProcessAsync(string key, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            queued.Remove(key);
            processing = key;
        }

        var retry = TimeSpan.Zero;
        try
        {
            await ReconcileAsync(key, cancellationToken);
            lock (gate)
            {
                failures.Remove(key);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            int count;
            lock (gate)
            {
                count = failures.GetValueOrDefault(key) + 1;
                failures[key] = count;
            }

            retry = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, FirstRetry.Ticks << Math.Min(count - 1, 30)));
            if (error is ApiException { Code: 409 or 404 })
            {
                Log.ReconcileConflicted(Logger, Name, key, error.Message);
            }
            else
            {
                Log.ReconcileFailed(Logger, Name, key, error);
            }
        }
        finally
        {
            bool again;
            lock (gate)
            {
                processing = null;
                again = dirty.Remove(key);
            }

            if (again && retry == TimeSpan.Zero)
            {
                Enqueue(key);
            }
        }

        if (retry > TimeSpan.Zero)
        {
            Enqueue(key, retry);
        }
    }

    private async Task EnqueueLaterAsync(string key, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, Time, stopping);
            Enqueue(key);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "{Controller} reconcile of {Key} raced another write: {Reason}")]
        public static partial void ReconcileConflicted(ILogger logger, string controller, string key, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Controller} reconcile of {Key} failed")]
        public static partial void ReconcileFailed(ILogger logger, string controller, string key, Exception error);
    }
}
