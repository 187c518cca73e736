using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Resources;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>Content negotiation for <c>as=Table</c> and <c>as=PartialObjectMetadata</c> responses.</summary>
internal static class Tables
{
    public const string TableContentType = "application/json;as=Table;v=v1;g=meta.k8s.io";

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

    /// <summary>The printer of a resource at a version: the built-in columns, or a CRD's printer columns.</summary>
    public static TablePrinter PrinterFor(ResourceType type, string version) =>
        type.Custom is null ? TablePrinter.For(type.Group, type.Plural) : TablePrinter.ForCustomResource(type.Custom.Version(version)?.PrinterColumns);

    public static TableIncludeObject IncludeObject(IQueryCollection query)
    {
        if (!TableRequest.TryParseIncludeObject(query["includeObject"].FirstOrDefault(), out var mode, out var error))
        {
            throw ApiException.BadRequest(error!);
        }

        return mode;
    }
}

/// <summary>Table responses.</summary>
internal sealed partial class ApiHandler
{
    private async Task WriteTableAsync(HttpContext context, int code, ResourceType type, IReadOnlyList<JsonObject> items, long? listRevision, string? next)
    {
        var request = new TableRequest
        {
            Now = objects.Time.GetUtcNow(),
            IncludeObject = Tables.IncludeObject(context.Request.Query),
            ResourceVersion = listRevision is { } revision ? ObjectService.Rv(revision) : null,
            Continue = next,
        };
        var version = items.Count > 0 && items[0]["apiVersion"]?.ToString() is { } apiVersion ? apiVersion[(apiVersion.IndexOf('/', StringComparison.Ordinal) + 1)..] : type.PreferredVersion;
        var table = Tables.PrinterFor(type, version).ToTable(items, request);
        await WriteJsonAsync(context, code, table, Tables.TableContentType);
    }
}
