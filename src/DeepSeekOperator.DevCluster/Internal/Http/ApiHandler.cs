using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>
/// Serves the Kubernetes REST API: decodes a request the way kube-apiserver's handlers do, calls the
/// <see cref="ObjectService"/>, and answers with the object, a list, a watch stream, a Table or a Status.
/// </summary>
internal sealed partial class ApiHandler(ObjectService objects, ApiServerSettings settings, IPodLogSource? logs, ILogger logger)
{
    /// <summary>kube-apiserver's limit on a request body.</summary>
    public const long MaxBodyBytes = 3 * 1024 * 1024;

    private const string JsonType = "application/json";

    /// <summary>Where <c>pods/log</c> reads from; the pod runner sets itself here when it runs beside the server.</summary>
    public IPodLogSource? PodLogs { get; set; } = logs;

    private ResourceRegistry Registry => objects.Registry;

    private ObjectStore Store => objects.Store;

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        try
        {
            var path = request.Path.Value ?? "/";
            if (await TryServeNonResourceAsync(context, path))
            {
                return;
            }

            var parsed = RequestPath.Parse(path) ?? throw ApiException.UnknownPath();
            await ServeResourceAsync(context, parsed);
        }
        catch (ApiException error)
        {
            await WriteStatusAsync(context, error);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            Log.RequestFailed(logger, request.Method, request.Path.Value ?? "", error);
            await WriteStatusAsync(context, new ApiException(500, "InternalError", $"Internal error occurred: {error.Message}"));
        }
    }

    private async Task ServeResourceAsync(HttpContext context, RequestPath path)
    {
        var type = Registry.Find(path.Group, path.Version, path.Resource) ?? throw ApiException.UnknownPath();
        if (!type.Namespaced && path.Namespace.Length > 0)
        {
            throw ApiException.UnknownPath();
        }

        if (path.Subresource.Length > 0 && !IsServedSubresource(type, path.Subresource))
        {
            throw ApiException.UnknownPath();
        }

        var method = context.Request.Method;
        var query = context.Request.Query;
        if (path.LegacyWatch || (method == "GET" && path.Name.Length == 0 && IsTrue(query["watch"])))
        {
            if (method != "GET")
            {
                throw ApiException.MethodNotAllowed();
            }

            await WatchAsync(context, type, path);
            return;
        }

        switch (method, path.Name.Length > 0, path.Subresource)
        {
            case ("GET", false, _):
                await ListAsync(context, type, path);
                return;
            case ("POST", false, _):
                await CreateAsync(context, type, path);
                return;
            case ("DELETE", false, _):
                await DeleteCollectionAsync(context, type, path);
                return;
            case ("GET", true, ""):
                await WriteObjectAsync(context, 200, type, objects.Get(type, path.Version, path.Namespace, path.Name));
                return;
            case ("GET", true, "status"):
                await WriteObjectAsync(context, 200, type, objects.Get(type, path.Version, path.Namespace, path.Name));
                return;
            case ("GET" or "PUT" or "PATCH", true, "scale"):
                await ScaleAsync(context, type, path);
                return;
            case ("GET", true, "log"):
                await LogAsync(context, type, path);
                return;
            case ("POST", true, "binding"):
                await BindAsync(context, type, path);
                return;
            case ("PUT", true, "" or "status" or "finalize"):
                await UpdateAsync(context, type, path);
                return;
            case ("PATCH", true, "" or "status"):
                await PatchAsync(context, type, path);
                return;
            case ("DELETE", true, ""):
                await DeleteAsync(context, type, path);
                return;
            default:
                throw ApiException.MethodNotAllowed();
        }
    }

    private static bool IsServedSubresource(ResourceType type, string subresource) => subresource switch
    {
        "status" => type.HasStatus,
        "scale" => type.Scale is not null,
        _ => type.ExtraSubresources.Contains(subresource),
    };

    private async Task CreateAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var body = await ReadObjectAsync(context, type);
        var options = WriteOptionsOf(context);
        if (!options.DryRun && ulong.TryParse(Meta.ResourceVersion(body), out var resourceVersion) && resourceVersion != 0)
        {
            // etcd3's store refuses this with a plain error, which kube-apiserver answers as 500 with no reason.
            throw new ApiException(500, "", "resourceVersion should not be set on objects to be created");
        }

        var created = objects.Create(type, path.Version, path.Namespace, body, options);
        AddWarnings(context, options);
        await WriteObjectAsync(context, options.DryRun ? 200 : 201, type, created);
    }

    private async Task UpdateAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var body = await ReadObjectAsync(context, type);
        var options = WriteOptionsOf(context);
        var (result, created) = objects.Update(type, path.Version, path.Namespace, path.Name, body, options, path.Subresource.Length == 0 ? null : path.Subresource);
        AddWarnings(context, options);
        await WriteObjectAsync(context, created ? 201 : 200, type, result);
    }

    private async Task PatchAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var bytes = await ReadBodyAsync(context);
        var options = WriteOptionsOf(context);
        var force = IsTrue(context.Request.Query["force"]);
        var patcher = PatchRequest.Create(type, path.Version, path.Name, context.Request.ContentType, bytes, options, force, objects.FieldManager);
        var result = objects.Patch(
            type, path.Version, path.Namespace, path.Name, patcher.Apply, options,
            path.Subresource.Length == 0 ? null : path.Subresource, createIfMissing: patcher.IsApply);
        AddWarnings(context, options);
        await WriteObjectAsync(context, 200, type, result);
    }

    private async Task DeleteAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var options = await DeleteOptionsOfAsync(context);
        var result = objects.Delete(type, path.Version, path.Namespace, path.Name, options);
        if (result.Deleted && !ReturnsDeletedObject(type))
        {
            var details = new JsonObject { ["name"] = path.Name };
            if (type.Group.Length > 0)
            {
                details["group"] = type.Group;
            }

            details["kind"] = type.Plural;
            details["uid"] = Meta.Uid(result.Object);
            var status = new JsonObject
            {
                ["kind"] = "Status",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject(),
                ["status"] = "Success",
                ["details"] = details,
            };
            await WriteJsonAsync(context, 200, status);
            return;
        }

        // kube-apiserver answers 202 for a delete left pending only when orphanDependents=false was asked for.
        await WriteObjectAsync(context, result.Deleted || options.OrphanDependents != false ? 200 : 202, type, result.Object);
    }

    /// <summary>kube-apiserver returns the deleted object for these kinds and a Status for the others.</summary>
    private static bool ReturnsDeletedObject(ResourceType type) =>
        type.Custom is not null || (type.Group, type.Plural) is ("", "pods") or ("", "namespaces") or ("", "services") or ("apiextensions.k8s.io", _);

    private async Task DeleteCollectionAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        if (!type.Verbs.Contains("deletecollection"))
        {
            throw ApiException.MethodNotAllowed();
        }

        var options = await DeleteOptionsOfAsync(context);
        var filter = ListFilter.Parse(context.Request.Query, type, path.Version);
        var (items, _) = Store.List(type.StorageKey, type.Namespaced && path.Namespace.Length > 0 ? path.Namespace : null);
        var deleted = new JsonArray();
        foreach (var item in items.Where(filter.Matches))
        {
            try
            {
                deleted.Add(objects.Delete(type, path.Version, item.Namespace, item.Name, options).Object);
            }
            catch (ApiException error) when (error.Code == 404)
            {
            }
        }

        var list = new JsonObject
        {
            ["kind"] = type.ListKind,
            ["apiVersion"] = type.ApiVersion(path.Version),
            ["metadata"] = new JsonObject { ["resourceVersion"] = ObjectService.Rv(Store.Revision) },
            ["items"] = deleted,
        };
        await WriteJsonAsync(context, 200, list);
    }

    private static async Task<DeleteOptions> DeleteOptionsOfAsync(HttpContext context)
    {
        var query = context.Request.Query;
        string? policy = query["propagationPolicy"].FirstOrDefault();
        long? grace = long.TryParse(query["gracePeriodSeconds"].FirstOrDefault(), out var g) ? g : null;
        bool? orphanDependents = bool.TryParse(query["orphanDependents"].FirstOrDefault(), out var orphan) ? orphan : null;
        if (IsTrue(query["orphanDependents"]))
        {
            policy ??= "Orphan";
        }

        string? uid = null;
        string? rv = null;
        var dryRun = query["dryRun"].Any(v => v == "All");
        var bytes = await ReadBodyAsync(context);
        if (bytes.Length > 0)
        {
            var body = ParseJson(bytes) as JsonObject ?? throw ApiException.BadRequest("DeleteOptions: must be an object");
            policy = body["propagationPolicy"]?.ToString() ?? policy;
            if (Json.Bool(body["orphanDependents"]) is { } o)
            {
                policy ??= o ? "Orphan" : "Background";
                orphanDependents = o;
            }

            if (Json.Int64(body["gracePeriodSeconds"]) is { } seconds)
            {
                grace = seconds;
            }

            uid = body["preconditions"]?["uid"]?.ToString();
            rv = body["preconditions"]?["resourceVersion"]?.ToString();
            dryRun |= body["dryRun"] is JsonArray modes && modes.Any(m => m?.ToString() == "All");
        }

        return new DeleteOptions(policy, grace, uid, rv, dryRun, orphanDependents);
    }

    private static WriteOptions WriteOptionsOf(HttpContext context)
    {
        var query = context.Request.Query;
        var dryRun = query["dryRun"].FirstOrDefault();
        if (dryRun is not null and not "All")
        {
            throw ApiException.BadRequest($"Invalid dryRun: \"{dryRun}\": supported values: \"All\"");
        }

        var validation = query["fieldValidation"].FirstOrDefault() ?? "Warn";
        if (validation is not ("Strict" or "Warn" or "Ignore"))
        {
            throw ApiException.BadRequest($"fieldValidation: Unsupported value: \"{validation}\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
        }

        var manager = query["fieldManager"].FirstOrDefault();
        if (manager is { Length: > 128 })
        {
            throw ApiException.BadRequest("fieldManager: Too long: may not be more than 128 bytes");
        }

        return new WriteOptions(dryRun == "All", Patching.FieldManager.ManagerOrUserAgent(manager, context.Request.Headers.UserAgent.ToString()), validation);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context, ResourceType type)
    {
        var contentType = MediaType(context.Request.ContentType);
        var bytes = await ReadBodyAsync(context);
        if (bytes.Length == 0)
        {
            throw ApiException.BadRequest("the body of the request was empty");
        }

        JsonNode? node = contentType switch
        {
            "" or JsonType => ParseJson(bytes),
            "application/yaml" => Patching.ApplyPatchBody.Parse(Encoding.UTF8.GetString(bytes)),
            Protobuf.ProtobufObjectDecoder.MediaType => DecodeProtobuf(bytes, type),
            _ => throw ApiException.UnsupportedMediaType("application/json, application/yaml"),
        };
        return node as JsonObject ?? throw ApiException.BadRequest($"the object provided is unrecognized (must be of type {type.Kind}): the body must be a JSON object");
    }

    /// <summary>
    /// Reads a protobuf body (what <c>kubectl create</c> sends) as the JSON the object marshals to: 400 when it is malformed or
    /// carries a field the dev cluster does not read, 415 when it holds a kind the dev cluster has no protobuf schema for.
    /// </summary>
    private static JsonObject DecodeProtobuf(byte[] bytes, ResourceType type)
    {
        try
        {
            return Protobuf.ProtobufObjectDecoder.Decode(bytes) ?? throw ApiException.UnsupportedMediaType("application/json, application/yaml");
        }
        catch (Protobuf.ProtobufDecodeException error)
        {
            throw ApiException.BadRequest($"the object provided is unrecognized (must be of type {type.Kind}): {error.Message}");
        }
    }

    /// <summary>Parses JSON the way kube-apiserver reports a malformed body: 400 with the decoder's message.</summary>
    public static JsonNode? ParseJson(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 10000 });
        }
        catch (JsonException error)
        {
            throw ApiException.BadRequest($"the object provided is unrecognized (must be valid JSON): {error.Message}");
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength > MaxBodyBytes)
        {
            throw ApiException.TooLarge(MaxBodyBytes);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw ApiException.TooLarge(MaxBodyBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static string MediaType(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return "";
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
    }

    private static bool IsTrue(Microsoft.Extensions.Primitives.StringValues values) => values.Any(v => v is "true" or "1" or "True");

    private static void AddWarnings(HttpContext context, WriteOptions options)
    {
        foreach (var warning in options.Warnings)
        {
            context.Response.Headers.Append("Warning", $"299 - \"{warning.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        }
    }

    private async Task WriteObjectAsync(HttpContext context, int code, ResourceType type, JsonObject obj)
    {
        if (Tables.WantsTable(context.Request.Headers.Accept))
        {
            await WriteTableAsync(context, code, type, [obj], null, null);
            return;
        }

        await WriteJsonAsync(context, code, obj);
    }

    public static async Task WriteJsonAsync(HttpContext context, int code, JsonNode node, string contentType = JsonType)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = contentType;
        await context.Response.Body.WriteAsync(StoredObject.Serialize(node), context.RequestAborted);
    }

    private static async Task WriteStatusAsync(HttpContext context, ApiException error)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        await WriteJsonAsync(context, error.Code, error.ToStatus());
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed")]
        public static partial void RequestFailed(ILogger logger, string method, string path, Exception error);
    }
}

/// <summary>What the server says about itself in <c>/version</c> and discovery.</summary>
/// <param name="Major">Kubernetes major version emulated.</param>
/// <param name="Minor">Kubernetes minor version emulated.</param>
internal sealed record ApiServerSettings(string Major = "1", string Minor = "32")
{
    /// <summary>How long a watch runs when the client names no timeout.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How often a quiet watch that allows bookmarks gets one.</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(5);

    public string GitVersion => $"v{Major}.{Minor}.0";
}
