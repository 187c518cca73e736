using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Resources;

/// <summary>
/// Events are stored once and served as both <c>v1</c> and <c>events.k8s.io/v1</c>, as kube-apiserver does:
/// an event recorded through either API shows in <c>kubectl get events</c> and <c>kubectl describe</c>.
/// The field mapping is that of Kubernetes' <c>events/v1</c> conversion.
/// </summary>
internal static class EventConversion
{
    // events.k8s.io/v1 name ↔ core/v1 name, for the fields whose names differ.
    private static readonly (string EventsV1, string Core)[] Renamed =
    [
        ("regarding", "involvedObject"),
        ("note", "message"),
        ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ];

    /// <summary>True for the resource served from another resource's storage with a conversion.</summary>
    public static bool IsEventsV1(ResourceType type) => type is { Group: "events.k8s.io", Plural: "events" };

    /// <summary>A stored core/v1 Event as an events.k8s.io/v1 Event.</summary>
    public static JsonObject ToEventsV1(JsonObject core) => Rename(core, fromCore: true, "events.k8s.io/v1");

    /// <summary>An events.k8s.io/v1 Event as the core/v1 Event it is stored as.</summary>
    public static JsonObject ToCore(JsonObject eventsV1) => Rename(eventsV1, fromCore: false, "v1");

    private static JsonObject Rename(JsonObject source, bool fromCore, string apiVersion)
    {
        var result = new JsonObject();
        foreach (var (key, value) in source)
        {
            var target = key;
            foreach (var (eventsV1, core) in Renamed)
            {
                if (fromCore && key == core)
                {
                    target = eventsV1;
                }
                else if (!fromCore && key == eventsV1)
                {
                    target = core;
                }
            }

            result[target] = value?.DeepClone();
        }

        result["apiVersion"] = apiVersion;
        result["kind"] = "Event";
        return result;
    }
}
