using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Storage;

namespace DeepSeekOperator.DevCluster.Internal.Networking;

/// <summary>
/// What the endpoints and EndpointSlice controllers share: which pods a Service selects, whether a pod belongs in its
/// endpoints, its IPv4 address, and the port a service port resolves to on a pod (<c>podutil.FindPort</c>).
/// </summary>
internal static class ServicePods
{
    /// <summary>The Service kube-apiserver publishes for itself, which no controller touches.</summary>
    public const string ApiServerServiceKey = "default/kubernetes";

    /// <summary>The <c>service.kubernetes.io/headless</c> label of headless services' endpoints.</summary>
    public const string HeadlessLabel = "service.kubernetes.io/headless";

    /// <summary>The annotation telling when the change behind an endpoints write happened.</summary>
    public const string TriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

    /// <summary>The Service's selector; null when it has none (its endpoints are managed by hand).</summary>
    public static JsonObject? Selector(JsonObject service) => service["spec"]?["selector"] as JsonObject;

    /// <summary>Whether the selector map matches the labels (an empty selector matches every pod).</summary>
    public static bool Selects(JsonObject selector, JsonObject pod)
    {
        var labels = pod["metadata"]?["labels"] as JsonObject;
        return selector.All(s => labels?[s.Key]?.ToString() == s.Value?.ToString());
    }

    /// <summary>The pods of the Service's namespace its selector matches, by name.</summary>
    public static List<JsonObject> Selected(ObjectStore store, JsonObject service, JsonObject selector)
    {
        var ns = Meta.Namespace(service);
        var required = Required(selector);
        var candidates = required.Count > 0 ? store.ListLabelled("pods", ns, required) : store.List("pods", ns).Items;
        return [.. candidates.Select(p => p.Value).Where(p => Selects(selector, p))];
    }

    /// <summary>Files the changed Service's selector in <paramref name="index"/> (or drops it: deleted, or without a selector).</summary>
    public static void File(SelectorIndex index, StoredObject service, bool deleted)
    {
        if (deleted || Selector(service.Value) is not { } selector)
        {
            index.Remove(service.Key);
            return;
        }

        index.Put(service, labels => selector.All(s => labels?[s.Key]?.ToString() == s.Value?.ToString()), Required(selector));
    }

    /// <summary>Files every stored Service in <paramref name="index"/>; returns their keys.</summary>
    public static List<string> FileAll(SelectorIndex index, ObjectStore store)
    {
        var all = store.List("services", null).Items;
        foreach (var service in all)
        {
            File(index, service, deleted: false);
        }

        return [.. all.Select(s => s.Key)];
    }

    /// <summary>Files the Service of <paramref name="change"/> in <paramref name="index"/>; returns its key, which the change makes stale.</summary>
    public static string[] Filed(SelectorIndex index, StoreEvent change)
    {
        File(index, change.Object, change.Type == StoreEventType.Deleted);
        return [change.Object.Key];
    }

    /// <summary>The keys of the Services in the pod's namespace that select it now or selected it before the change.</summary>
    public static IEnumerable<string> ServicesOf(SelectorIndex index, StoreEvent podChange) =>
        index.Matching(podChange.Object.Namespace, new[] { podChange.Object.Value, podChange.Previous?.Value }.OfType<JsonObject>().Select(p => p["metadata"]?["labels"] as JsonObject));

    /// <summary>The label values every pod the selector map matches has: its entries with a string value.</summary>
    private static List<(string Label, string Value)> Required(JsonObject selector) =>
        [.. selector.Where(s => s.Value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String).Select(s => (s.Key, s.Value!.GetValue<string>()))];

    /// <summary>Whether the pod's Ready condition is True (<c>podutil.IsPodReady</c>).</summary>
    public static bool IsReady(JsonObject pod) =>
        (pod["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True");

    /// <summary>
    /// <c>ShouldPodBeInEndpoints</c>: not terminal, with an IP, and not terminating unless <paramref name="includeTerminating"/>.
    /// </summary>
    public static bool BelongsInEndpoints(JsonObject pod, bool includeTerminating) =>
        pod["status"]?["phase"]?.ToString() is not ("Succeeded" or "Failed")
        && Ipv4(pod) is not null
        && (includeTerminating || !Meta.IsDeleting(pod));

    /// <summary>The pod's first IPv4 address, from <c>status.podIPs</c> or <c>status.podIP</c>.</summary>
    public static string? Ipv4(JsonObject pod)
    {
        var candidates = (pod["status"]?["podIPs"] as JsonArray ?? []).Select(ip => ip?["ip"]?.ToString()).Append(pod["status"]?["podIP"]?.ToString());
        return candidates.FirstOrDefault(ip => IPAddress.TryParse(ip, out var address) && address.AddressFamily == AddressFamily.InterNetwork);
    }

    /// <summary>Whether the service has a cluster IP (<c>IsServiceIPSet</c>); headless services do not.</summary>
    public static bool HasClusterIp(JsonObject service) => service["spec"]?["clusterIP"]?.ToString() is { Length: > 0 } ip && ip != "None";

    /// <summary>Whether the endpoint gets the pod's hostname: it has one and its subdomain names the Service.</summary>
    public static bool SetsHostname(JsonObject pod, JsonObject service) =>
        pod["spec"]?["hostname"]?.ToString() is { Length: > 0 } && pod["spec"]?["subdomain"]?.ToString() == Meta.Name(service);

    /// <summary>
    /// The pod port a service port's <c>targetPort</c> names: a number as it is, a name looked up among the ports of
    /// the pod's containers (and restartable init containers) with the same protocol; null when the name is not there.
    /// </summary>
    public static long? FindPort(JsonObject pod, JsonObject servicePort)
    {
        var target = servicePort["targetPort"] ?? servicePort["port"];
        if (Json.Int64(target) is { } number)
        {
            return number;
        }

        var name = Json.String(target) ?? "";
        var protocol = servicePort["protocol"]?.ToString() ?? "TCP";
        var containers = (pod["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>()
            .Concat((pod["spec"]?["initContainers"] as JsonArray ?? []).OfType<JsonObject>().Where(c => c["restartPolicy"]?.ToString() == "Always"));
        foreach (var container in containers)
        {
            foreach (var port in (container["ports"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (port["name"]?.ToString() == name && (port["protocol"]?.ToString() ?? "TCP") == protocol)
                {
                    return Json.Int64(port["containerPort"]);
                }
            }
        }

        return null;
    }

    /// <summary>Go's <c>time.RFC3339Nano</c>: UTC, fractional seconds without trailing zeros.</summary>
    public static string Rfc3339Nano(DateTimeOffset time)
    {
        var fraction = time.UtcDateTime.ToString("fffffff", CultureInfo.InvariantCulture).TrimEnd('0');
        return time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + (fraction.Length > 0 ? "." + fraction : "") + "Z";
    }
}
