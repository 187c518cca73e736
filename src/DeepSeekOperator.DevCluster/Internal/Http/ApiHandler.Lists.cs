using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.AspNetCore.Http;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>Lists and watches.</summary>
internal sealed partial class ApiHandler
{
    private static readonly byte[] AddedPrefix = Encoding.UTF8.GetBytes("{\"type\":\"ADDED\",\"object\":");
    private static readonly byte[] ModifiedPrefix = Encoding.UTF8.GetBytes("{\"type\":\"MODIFIED\",\"object\":");
    private static readonly byte[] DeletedPrefix = Encoding.UTF8.GetBytes("{\"type\":\"DELETED\",\"object\":");
    private static readonly byte[] EventSuffix = Encoding.UTF8.GetBytes("}\n");

    private async Task ListAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var query = context.Request.Query;
        var ns = type.Namespaced && path.Namespace.Length > 0 ? path.Namespace : null;
        var filter = ListFilter.Parse(query, type, path.Version);
        var limit = ParseLimit(query["limit"].FirstOrDefault());
        var continueToken = query["continue"].FirstOrDefault();
        var resourceVersion = query["resourceVersion"].FirstOrDefault();
        var match = query["resourceVersionMatch"].FirstOrDefault();
        IReadOnlyList<StoredObject> items;
        long listRevision;
        string? startAfter = null;
        if (!string.IsNullOrEmpty(continueToken))
        {
            if (!string.IsNullOrEmpty(resourceVersion) && resourceVersion != "0")
            {
                throw ApiException.BadRequest("specifying resource version is not allowed when using continue");
            }

            (listRevision, startAfter) = DecodeContinue(continueToken);
            items = Store.ListAt(type.StorageKey, ns, listRevision)
                ?? throw ApiException.Expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
        }
        else if (!string.IsNullOrEmpty(resourceVersion) && resourceVersion != "0" && match == "Exact")
        {
            listRevision = ParseRevision(resourceVersion);
            items = Store.ListAt(type.StorageKey, ns, listRevision)
                ?? throw ApiException.Expired($"too old resource version: {listRevision} ({Store.CompactedRevision})");
        }
        else
        {
            if (match is not (null or "" or "NotOlderThan" or "Exact"))
            {
                throw ApiException.BadRequest($"resourceVersionMatch: Unsupported value: \"{match}\": supported values: \"Exact\", \"NotOlderThan\"");
            }

            if (!string.IsNullOrEmpty(resourceVersion) && resourceVersion != "0" && ParseRevision(resourceVersion) > Store.Revision)
            {
                throw new ApiException(504, "Timeout", $"Timeout: Too large resource version: {resourceVersion}, current: {Store.Revision}");
            }

            (items, listRevision) = Store.List(type.StorageKey, ns);
        }

        var selected = new List<StoredObject>();
        var remaining = 0L;
        string? next = null;
        foreach (var item in items)
        {
            if (startAfter is not null && string.CompareOrdinal(item.Key, startAfter) <= 0)
            {
                continue;
            }

            if (!filter.Matches(item))
            {
                continue;
            }

            if (limit > 0 && selected.Count == limit)
            {
                remaining++;
                continue;
            }

            selected.Add(item);
        }

        if (remaining > 0)
        {
            next = EncodeContinue(listRevision, selected[^1].Key);
        }

        if (Tables.WantsTable(context.Request.Headers.Accept))
        {
            await WriteTableAsync(context, 200, type, [.. selected.Select(s => ObjectService.ToVersion(type, s.Clone(), path.Version))], listRevision, next);
            return;
        }

        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = JsonType;
        var metadataOnly = Tables.WantsMetadata(context.Request.Headers.Accept);
        await using var writer = new Utf8JsonWriter(response.BodyWriter, new JsonWriterOptions { SkipValidation = true, Encoder = StoredObject.WireOptions.Encoder });
        writer.WriteStartObject();
        writer.WriteString("kind", metadataOnly ? "PartialObjectMetadataList" : type.ListKind);
        writer.WriteString("apiVersion", metadataOnly ? "meta.k8s.io/v1" : type.ApiVersion(path.Version));
        writer.WriteStartObject("metadata");
        writer.WriteString("resourceVersion", ObjectService.Rv(listRevision));
        if (next is not null)
        {
            writer.WriteString("continue", next);
            if (filter.IsEverything)
            {
                writer.WriteNumber("remainingItemCount", remaining);
            }
        }

        writer.WriteEndObject();
        writer.WriteStartArray("items");
        var convert = NeedsConversion(type, path.Version);
        foreach (var item in selected)
        {
            if (metadataOnly)
            {
                Tables.PartialMetadata(item.Value).WriteTo(writer);
            }
            else if (convert)
            {
                ObjectService.ToVersion(type, item.Clone(), path.Version).WriteTo(writer);
            }
            else
            {
                writer.WriteRawValue(item.Json, skipInputValidation: true);
            }

            if (writer.BytesPending > 32768)
            {
                await writer.FlushAsync(context.RequestAborted);
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    private async Task WatchAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var query = context.Request.Query;
        var ns = type.Namespaced && path.Namespace.Length > 0 ? path.Namespace : null;
        var filter = ListFilter.Parse(query, type, path.Version);
        if (path.Name.Length > 0)
        {
            filter = filter.WithName(path.Name);
        }

        var resourceVersion = query["resourceVersion"].FirstOrDefault();
        var bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var sendInitial = query["sendInitialEvents"].FirstOrDefault() is { } initial ? IsTrue(initial) : (bool?)null;
        if (sendInitial is not null && query["resourceVersionMatch"].FirstOrDefault() != "NotOlderThan")
        {
            throw ApiException.Invalid(type, "", [FieldError.Forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")]);
        }

        var timeout = long.TryParse(query["timeoutSeconds"].FirstOrDefault(), out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : settings.WatchTimeout;
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeoutSource.CancelAfter(timeout);
        var token = timeoutSource.Token;
        var response = context.Response;
        var render = new EventRenderer(type, path.Version, Tables.WantsTable(context.Request.Headers.Accept)
            ? new TableRequest { Now = objects.Time.GetUtcNow(), IncludeObject = Tables.IncludeObject(query) }
            : null, objects.Time);
        if (render.Table is not null)
        {
            response.ContentType = Tables.TableContentType;
        }

        ObjectStore.Subscription subscription;
        var startRevision = 0L;
        response.StatusCode = 200;
        response.ContentType ??= JsonType;
        response.Headers.CacheControl = "no-cache, private";
        if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0" || sendInitial == true)
        {
            var (snapshot, revision, sub) = Store.WatchWithSnapshot(type.StorageKey, ns);
            subscription = sub;
            startRevision = revision;
            if (sendInitial != false)
            {
                foreach (var item in snapshot.Where(filter.Matches))
                {
                    await WriteEventAsync(response, AddedPrefix, item, render, token);
                }
            }

            if (sendInitial == true && bookmarks)
            {
                await WriteBookmarkAsync(response, type, path.Version, revision, initialEventsEnd: true, token);
            }
        }
        else
        {
            var from = ParseRevision(resourceVersion);
            var started = Store.WatchFrom(type.StorageKey, from);
            if (started is null)
            {
                var gone = ApiException.Expired($"too old resource version: {from} ({Store.CompactedRevision + 1})");
                var error = new JsonObject { ["type"] = "ERROR", ["object"] = gone.ToStatus() };
                await response.Body.WriteAsync(Concat(StoredObject.Serialize(error), "\n"u8), token);
                return;
            }

            subscription = started.Value.Subscription;
            startRevision = from;
            foreach (var change in started.Value.Replay)
            {
                await WriteChangeAsync(response, change, ns, filter, render, token);
            }
        }

        await response.Body.FlushAsync(token);
        using (subscription)
        {
            var reader = subscription.Reader;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(token);
                    if (bookmarks)
                    {
                        wait.CancelAfter(settings.BookmarkInterval);
                    }

                    bool ready;
                    try
                    {
                        ready = await reader.WaitToReadAsync(wait.Token);
                    }
                    catch (OperationCanceledException) when (!token.IsCancellationRequested)
                    {
                        // Quiet for a bookmark interval: tell the client how far it is up to date. As the watch cache
                        // does, every bookmark newer than the watch's start is sent, even at a revision already delivered.
                        var revision = Store.Revision;
                        if (!reader.TryPeek(out _) && revision > startRevision)
                        {
                            await WriteBookmarkAsync(response, type, path.Version, revision, initialEventsEnd: false, token);
                            await response.Body.FlushAsync(token);
                        }

                        continue;
                    }

                    if (!ready)
                    {
                        break;
                    }

                    while (reader.TryRead(out var change))
                    {
                        await WriteChangeAsync(response, change, ns, filter, render, token);
                    }

                    await response.Body.FlushAsync(token);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
            }
        }
    }

    private static async Task WriteChangeAsync(
        HttpResponse response, StoreEvent change, string? ns, ListFilter filter, EventRenderer render, CancellationToken token)
    {
        if (ns is not null && change.Object.Namespace != ns)
        {
            return;
        }

        var now = change.Type != StoreEventType.Deleted && filter.Matches(change.Object);
        var before = change.Previous is not null && filter.Matches(change.Previous);
        var prefix = change.Type switch
        {
            StoreEventType.Added => now ? AddedPrefix : null,
            StoreEventType.Modified => now && before ? ModifiedPrefix : now ? AddedPrefix : before ? DeletedPrefix : null,
            _ => before ? DeletedPrefix : null,
        };
        if (prefix is not null)
        {
            await WriteEventAsync(response, prefix, change.Object, render, token);
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, byte[] prefix, StoredObject item, EventRenderer render, CancellationToken token)
    {
        await response.Body.WriteAsync(Concat(Concat(prefix, render.Render(item)), EventSuffix), token);
    }

    /// <summary>
    /// How a watch writes objects: as stored (shared bytes), converted to the requested version, or as one-row
    /// Tables (<c>kubectl get -w</c>), the first with column definitions and the rest without, as kube-apiserver does.
    /// </summary>
    private sealed class EventRenderer(ResourceType type, string version, TableRequest? table, TimeProvider time)
    {
        private readonly bool convert = NeedsConversion(type, version);
        private bool headersSent;

        public TableRequest? Table => table;

        public byte[] Render(StoredObject item)
        {
            if (table is null)
            {
                return convert ? StoredObject.Serialize(ObjectService.ToVersion(type, item.Clone(), version)) : item.Json;
            }

            var request = table with { Now = time.GetUtcNow(), NoHeaders = headersSent };
            headersSent = true;
            return StoredObject.Serialize(Tables.PrinterFor(type, version).ToTable([ObjectService.ToVersion(type, item.Clone(), version)], request));
        }
    }

    private static async Task WriteBookmarkAsync(HttpResponse response, ResourceType type, string version, long revision, bool initialEventsEnd, CancellationToken token)
    {
        var metadata = new JsonObject { ["resourceVersion"] = ObjectService.Rv(revision) };
        if (initialEventsEnd)
        {
            metadata["annotations"] = new JsonObject { ["k8s.io/initial-events-end"] = "true" };
        }

        var bookmark = new JsonObject
        {
            ["type"] = "BOOKMARK",
            ["object"] = new JsonObject { ["kind"] = type.Kind, ["apiVersion"] = type.ApiVersion(version), ["metadata"] = metadata },
        };
        await response.Body.WriteAsync(Concat(StoredObject.Serialize(bookmark), "\n"u8), token);
    }

    private static byte[] Concat(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var result = new byte[a.Length + b.Length];
        a.CopyTo(result);
        b.CopyTo(result.AsSpan(a.Length));
        return result;
    }

    private static bool NeedsConversion(ResourceType type, string version) =>
        type.StorageOverride is not null || (type.Custom is not null && type.Custom.Versions.FirstOrDefault(v => v.Storage)?.Name != version);

    private static long ParseLimit(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            ? limit
            : throw ApiException.BadRequest($"limit: Invalid value: \"{text}\": must be a non-negative integer");
    }

    private static long ParseRevision(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var revision)
            ? revision
            : throw ApiException.BadRequest($"invalid resource version: strconv.ParseUint: parsing \"{text}\": invalid syntax");

    private static string EncodeContinue(long revision, string lastKey)
    {
        var token = new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = revision, ["start"] = lastKey + "\u0000" };
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(token.ToJsonString())).Replace('+', '-').Replace('/', '_').TrimEnd('=');
    }

    private static (long Revision, string StartAfter) DecodeContinue(string token)
    {
        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var node = JsonNode.Parse(Convert.FromBase64String(base64))!;
            if (node["v"]?.ToString() != "meta.k8s.io/v1")
            {
                throw new FormatException("unknown version");
            }

            return (node["rv"]!.GetValue<long>(), node["start"]!.GetValue<string>().TrimEnd('\u0000'));
        }
        catch (Exception error) when (error is FormatException or JsonException or InvalidOperationException or NullReferenceException)
        {
            throw ApiException.BadRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
        }
    }
}
