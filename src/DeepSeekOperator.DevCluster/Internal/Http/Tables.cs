using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Resources;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>Content negotiation for <c>as=Table</c> and <c>as=PartialObjectMetadata</c> responses.</summary>
internal static class Tables
{
    public static bool WantsTable(StringValues accept) => accept.Any(a => a is not null && a.Contains("as=Table", StringComparison.Ordinal));

    public static bool WantsMetadata(StringValues accept) =>
        accept.Any(a => a is not null && a.Contains("as=PartialObjectMetadata", StringComparison.Ordinal));

    /// <summary>The <c>PartialObjectMetadata</c> of an object.</summary>
    public static JsonObject PartialMetadata(JsonObject obj) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = "meta.k8s.io/v1",
        ["metadata"] = obj["metadata"]?.DeepClone(),
    };
}

/// <summary>Table responses.</summary>
internal sealed partial class ApiHandler
{
    private static async Task WriteTableAsync(HttpContext context, int code, ResourceType type, IReadOnlyList<JsonObject> items, long? listRevision, string? next)
    {
        _ = type;
        var rows = new JsonArray();
        foreach (var item in items)
        {
            rows.Add(new JsonObject
            {
                ["cells"] = new JsonArray(Meta.Name(item), Meta.String(item, "creationTimestamp")),
                ["object"] = Tables.PartialMetadata(item),
            });
        }

        var metadata = new JsonObject();
        if (listRevision is { } revision)
        {
            metadata["resourceVersion"] = ObjectService.Rv(revision);
        }

        if (next is not null)
        {
            metadata["continue"] = next;
        }

        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = metadata,
            ["columnDefinitions"] = new JsonArray(
                new JsonObject { ["name"] = "Name", ["type"] = "string", ["format"] = "name", ["description"] = "Name", ["priority"] = 0 },
                new JsonObject { ["name"] = "Created At", ["type"] = "date", ["format"] = "", ["description"] = "Created At", ["priority"] = 0 }),
            ["rows"] = rows,
        };
        await WriteJsonAsync(context, code, table, "application/json;as=Table;v=v1;g=meta.k8s.io");
    }
}
