using System.Globalization;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>Reads and writes the <c>metadata</c> of objects held as JSON.</summary>
internal static class Meta
{
    public static JsonObject Of(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject metadata)
        {
            return metadata;
        }

        metadata = [];
        obj["metadata"] = metadata;
        return metadata;
    }

    public static string? String(JsonObject obj, string field) =>
        obj["metadata"] is JsonObject m && m[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static string Name(JsonObject obj) => String(obj, "name") ?? "";

    public static string Namespace(JsonObject obj) => String(obj, "namespace") ?? "";

    public static string Uid(JsonObject obj) => String(obj, "uid") ?? "";

    public static string? ResourceVersion(JsonObject obj) => String(obj, "resourceVersion");

    public static bool IsDeleting(JsonObject obj) => String(obj, "deletionTimestamp") is not null;

    public static IReadOnlyList<string> Finalizers(JsonObject obj) =>
        obj["metadata"]?["finalizers"] is JsonArray list ? [.. list.Select(f => f?.GetValue<string>() ?? "")] : [];

    public static void SetFinalizers(JsonObject obj, IReadOnlyCollection<string> finalizers)
    {
        var metadata = Of(obj);
        if (finalizers.Count == 0)
        {
            metadata.Remove("finalizers");
        }
        else
        {
            metadata["finalizers"] = new JsonArray([.. finalizers.Select(f => (JsonNode?)JsonValue.Create(f))]);
        }
    }

    /// <summary>One label's value, as <see cref="Labels"/> has it, without building the map; null when absent.</summary>
    public static string? Label(JsonObject obj, string name) =>
        obj["metadata"]?["labels"]?[name] is JsonValue value ? value.ToString() : null;

    public static IReadOnlyDictionary<string, string> Labels(JsonObject obj) =>
        obj["metadata"]?["labels"] is JsonObject labels
            ? labels.Where(l => l.Value is JsonValue).ToDictionary(l => l.Key, l => l.Value!.ToString())
            : new Dictionary<string, string>();

    /// <summary>The owner references: (apiVersion, kind, name, uid, controller, blockOwnerDeletion).</summary>
    public static IReadOnlyList<OwnerReference> Owners(JsonObject obj)
    {
        if (obj["metadata"]?["ownerReferences"] is not JsonArray refs)
        {
            return [];
        }

        return [.. refs.OfType<JsonObject>().Select(r => new OwnerReference(
            r["apiVersion"]?.GetValue<string>() ?? "",
            r["kind"]?.GetValue<string>() ?? "",
            r["name"]?.GetValue<string>() ?? "",
            r["uid"]?.GetValue<string>() ?? "",
            Json.Bool(r["controller"]) == true,
            Json.Bool(r["blockOwnerDeletion"]) == true))];
    }

    /// <summary>A timestamp as Kubernetes writes <c>metav1.Time</c>: RFC 3339, UTC, whole seconds.</summary>
    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A timestamp as Kubernetes writes <c>metav1.MicroTime</c>.</summary>
    public static string MicroTimestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}

/// <summary>One entry of <c>metadata.ownerReferences</c>.</summary>
internal sealed record OwnerReference(string ApiVersion, string Kind, string Name, string Uid, bool Controller, bool BlockOwnerDeletion)
{
    public string Group => ApiVersion.Contains('/', StringComparison.Ordinal) ? ApiVersion[..ApiVersion.IndexOf('/', StringComparison.Ordinal)] : "";
}
