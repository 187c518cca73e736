using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.DevCluster.Tests.Workloads;

/// <summary>
/// A stand-in for the scheduler and kubelet in controller tests: it binds every pod to <c>node-0</c>, reports it
/// Running with an IP of its own and the PodScheduled, Initialized, ContainersReady and Ready conditions (Ready only
/// while <see cref="Ready"/> says so), and finishes the graceful deletion of pods being deleted at once.
/// </summary>
internal sealed class TestKubelet : ControllerLoop
{
    private readonly ResourceType pods;
    private readonly Dictionary<string, string> addresses = [];
    private volatile Func<JsonObject, bool> ready = _ => true;

    public TestKubelet(ObjectService objects)
        : base(objects, NullLoggerFactory.Instance, "test-kubelet")
    {
        pods = Type("", "pods");
    }

    /// <summary>Which pods report Ready; changing it re-examines every pod.</summary>
    public Func<JsonObject, bool> Ready
    {
        get => ready;
        set
        {
            ready = value;
            foreach (var key in InitialKeys())
            {
                Enqueue(key);
            }
        }
    }

    protected override bool Watches(string storageKey) => storageKey == pods.StorageKey;

    protected override IEnumerable<string> KeysFor(StoreEvent change) => change.Type == StoreEventType.Deleted ? [] : [change.Object.Key];

    protected override IEnumerable<string> InitialKeys() => Store.List(pods.StorageKey, null).Items.Select(i => i.Key);

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var stored = Store.Get(pods.StorageKey, key[..slash], key[(slash + 1)..]);
        if (stored is null)
        {
            return Task.CompletedTask;
        }

        var pod = stored.Value;
        if (Meta.IsDeleting(pod))
        {
            try
            {
                Objects.Delete(pods, "v1", stored.Namespace, stored.Name, new DeleteOptions(GracePeriodSeconds: 0, PreconditionUid: stored.Uid));
            }
            catch (ApiException error) when (error.Code is 404 or 409)
            {
            }

            return Task.CompletedTask;
        }

        if (Json.String(pod["spec"]?["nodeName"]) is null)
        {
            Objects.Patch(pods, "v1", stored.Namespace, stored.Name, current =>
            {
                current!["spec"]!["nodeName"] = "node-0";
                var status = current["status"] as JsonObject ?? [];
                var conditions = status["conditions"] as JsonArray ?? [];
                conditions.Add(Condition("PodScheduled", "True", null));
                status["conditions"] = conditions;
                current["status"] = status;
                return current;
            }, Writes, "binding", createIfMissing: false);
            return Task.CompletedTask;
        }

        var isReady = ready(pod) ? "True" : "False";
        var desired = new JsonObject
        {
            ["phase"] = "Running",
            ["podIP"] = AddressOf(stored.Uid),
            ["conditions"] = new JsonArray(
                Condition("PodScheduled", "True", pod),
                Condition("Initialized", "True", pod),
                Condition("ContainersReady", isReady, pod),
                Condition("Ready", isReady, pod)),
        };
        if (StatusOf(pod["status"]) == StatusOf(desired))
        {
            return Task.CompletedTask;
        }

        var body = stored.Clone();
        var merged = (JsonObject)(pod["status"]?.DeepClone() ?? new JsonObject());
        foreach (var (field, value) in desired)
        {
            merged[field] = value?.DeepClone();
        }

        body["status"] = merged;
        Objects.Update(pods, "v1", stored.Namespace, stored.Name, body, Writes, "status");
        return Task.CompletedTask;
    }

    /// <summary>What the kubelet decides: phase, IP and each condition's status.</summary>
    private static string StatusOf(JsonNode? status) =>
        $"{status?["phase"]}|{status?["podIP"]}|" + string.Join(',', (status?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Select(c => $"{c["type"]}={c["status"]}"));

    private string AddressOf(string uid)
    {
        lock (addresses)
        {
            if (!addresses.TryGetValue(uid, out var address))
            {
                var n = addresses.Count + 2;
                address = $"127.0.{n / 250}.{(n % 250) + 1}";
                addresses[uid] = address;
            }

            return address;
        }
    }

    /// <summary>A pod condition whose transition time moves only when its status does.</summary>
    private JsonObject Condition(string type, string status, JsonObject? pod)
    {
        var previous = (pod?["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Json.String(c["type"]) == type);
        var since = previous is not null && Json.String(previous["status"]) == status
            ? previous["lastTransitionTime"]?.DeepClone()
            : Meta.Timestamp(Time.GetUtcNow());
        return new JsonObject { ["type"] = type, ["status"] = status, ["lastProbeTime"] = null, ["lastTransitionTime"] = since };
    }
}
