using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// Records the kubelet's events about pods and their containers (<c>fieldPath</c> <c>spec.containers{name}</c>),
/// from component <c>kubelet</c> on the pod's node. A repeat of an event within ten minutes raises the count and
/// <c>lastTimestamp</c> of the first one, as client-go's event correlator does.
/// </summary>
internal sealed class EventRecorder(ObjectService objects)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(10);
    private readonly Lock gate = new();
    private readonly Dictionary<string, (string Name, long Count, DateTimeOffset Last)> recent = new(StringComparer.Ordinal);

    private ResourceType Events => objects.Registry.Find("", "v1", "events")!;

    /// <summary>Records an event about <paramref name="pod"/>, or one of its containers when <paramref name="container"/> is given.</summary>
    public void Record(JsonObject pod, string? container, string type, string reason, string message)
    {
        var ns = Meta.Namespace(pod);
        var node = Json.String(pod["spec"]?["nodeName"]) ?? "";
        var fieldPath = container is null ? null : FieldPath(pod, container);
        var key = string.Join('\0', Meta.Uid(pod), fieldPath, type, reason, message);
        var now = objects.Time.GetUtcNow();
        try
        {
            (string Name, long Count, DateTimeOffset Last) previous;
            lock (gate)
            {
                if (!recent.TryGetValue(key, out previous) || now - previous.Last > Window)
                {
                    previous = default;
                }
            }

            if (previous.Name is not null && Bump(ns, previous.Name, now) is { } count)
            {
                Remember(key, previous.Name, count, now);
                return;
            }

            var timestamp = Meta.Timestamp(now);
            var created = objects.Create(Events, "v1", ns, new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = string.Create(CultureInfo.InvariantCulture, $"{Meta.Name(pod)}.{(now.ToUnixTimeMilliseconds() * 1_000_000) + Random.Shared.Next(1_000_000):x}"),
                },
                ["involvedObject"] = new JsonObject
                {
                    ["kind"] = "Pod",
                    ["namespace"] = ns,
                    ["name"] = Meta.Name(pod),
                    ["uid"] = Meta.Uid(pod),
                    ["apiVersion"] = "v1",
                    ["resourceVersion"] = Meta.ResourceVersion(pod),
                    ["fieldPath"] = fieldPath,
                },
                ["reason"] = reason,
                ["message"] = message,
                ["source"] = new JsonObject { ["component"] = "kubelet", ["host"] = node },
                ["firstTimestamp"] = timestamp,
                ["lastTimestamp"] = timestamp,
                ["count"] = 1,
                ["type"] = type,
                ["reportingComponent"] = "kubelet",
                ["reportingInstance"] = node,
            }, new WriteOptions(FieldManager: "kubelet"));
            Remember(key, Meta.Name(created), 1, now);
        }
        catch (ApiException error) when (error.Code is 403 or 404 or 409)
        {
            // The namespace is going, or the event raced another write: nothing is lost that matters.
        }
    }

    private static string FieldPath(JsonObject pod, string container)
    {
        var init = (pod["spec"]?["initContainers"] as JsonArray ?? []).Any(c => Json.String(c?["name"]) == container);
        return $"spec.{(init ? "initContainers" : "containers")}{{{container}}}";
    }

    private long? Bump(string ns, string name, DateTimeOffset now)
    {
        if (objects.Store.Get(Events.StorageKey, ns, name) is null)
        {
            return null;
        }

        long count = 0;
        objects.Patch(Events, "v1", ns, name, current =>
        {
            count = (Json.Int64(current!["count"]) ?? 1) + 1;
            current["count"] = count;
            current["lastTimestamp"] = Meta.Timestamp(now);
            return current;
        }, new WriteOptions(FieldManager: "kubelet"), null, createIfMissing: false);
        return count;
    }

    private void Remember(string key, string name, long count, DateTimeOffset now)
    {
        lock (gate)
        {
            recent[key] = (name, count, now);
            if (recent.Count > 10_000)
            {
                foreach (var stale in recent.Where(r => now - r.Value.Last > Window).Select(r => r.Key).ToList())
                {
                    recent.Remove(stale);
                }
            }
        }
    }
}
