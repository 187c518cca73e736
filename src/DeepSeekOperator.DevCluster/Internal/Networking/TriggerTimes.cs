using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Networking;

/// <summary>
/// The endpoints controllers' <c>TriggerTimeTracker</c>: for each Service, the earliest time among the changes since
/// its last sync that led to this one — a selected pod's Ready condition changing, or the Service being created —
/// for the <c>endpoints.kubernetes.io/last-change-trigger-time</c> annotation. Null when nothing it tracks changed.
/// </summary>
internal sealed class TriggerTimes
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, (DateTimeOffset? Service, Dictionary<string, DateTimeOffset> Pods)> last = [];

    public DateTimeOffset? Compute(string serviceKey, JsonObject service, IEnumerable<JsonObject> pods)
    {
        lock (gate)
        {
            var previous = last.GetValueOrDefault(serviceKey);
            DateTimeOffset? earliest = null;
            var current = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            foreach (var pod in pods)
            {
                var ready = (pod["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c["type"]?.ToString() == "Ready");
                if (Meta.ParseTime(ready?["lastTransitionTime"]?.ToString()) is not { } time)
                {
                    continue;
                }

                current[Meta.Name(pod)] = time;
                if (previous.Pods is null || !previous.Pods.TryGetValue(Meta.Name(pod), out var before) || time > before)
                {
                    earliest = earliest is { } e && e < time ? e : time;
                }
            }

            var created = Meta.ParseTime(Meta.String(service, "creationTimestamp"));
            if (created is { } serviceTime && (previous.Service is not { } seen || serviceTime > seen))
            {
                earliest = earliest is { } e && e < serviceTime ? e : serviceTime;
            }

            last[serviceKey] = (created, current);
            return earliest;
        }
    }

    /// <summary>Drops what is known of a Service that is gone.</summary>
    public void Forget(string serviceKey)
    {
        lock (gate)
        {
            last.Remove(serviceKey);
        }
    }
}
