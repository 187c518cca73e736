using System.Globalization;
using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Runtime.Internal;

/// <summary>
/// Lists and watches one kind over the official client's authenticated <see cref="Kubernetes.HttpClient"/>.
/// </summary>
/// <remarks>
/// Why not the client's own list/watch methods: the typed ones (<c>CoreV1.ListNamespacedServiceWithHttpMessagesAsync</c>,
/// …) need a switch over every kind; the custom-objects ones build <c>/apis/{group}/{version}</c> and so miss the core
/// group's <c>/api/v1</c>; <see cref="GenericClient"/>'s watch takes no resourceVersion or bookmarks; and the client's
/// watch reader deserialises every event as <typeparamref name="T"/>, which fails for a bookmark of a type with required
/// members (a bookmark carries only metadata) and turns a 410 into an error callback. Building the path from the
/// type's <see cref="KubernetesEntityAttribute"/> and reading the event stream here works for custom and built-in kinds
/// alike, with the client's credentials, TLS and <see cref="KubernetesJson"/> serialisation.
/// </remarks>
internal sealed class ResourceClient<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private const int PageSize = 500;
    private readonly Kubernetes client;
    private readonly string path;
    private readonly string? labelSelector;

    public ResourceClient(Kubernetes client, string? ns, string? labelSelector)
    {
        var entity = typeof(T).GetCustomAttribute<KubernetesEntityAttribute>()
            ?? throw new NotSupportedException($"{typeof(T).Name} has no [KubernetesEntity] attribute naming its group, version and plural.");
        this.client = client;
        this.labelSelector = labelSelector;
        var groupVersion = string.IsNullOrEmpty(entity.Group) ? "api/" + entity.ApiVersion : "apis/" + entity.Group + "/" + entity.ApiVersion;
        path = groupVersion + (string.IsNullOrEmpty(ns) ? "" : "/namespaces/" + Uri.EscapeDataString(ns)) + "/" + entity.PluralName;
        Description = string.IsNullOrEmpty(ns) ? entity.PluralName : entity.PluralName + " in " + ns;
    }

    /// <summary>The resource and namespace, for logs.</summary>
    public string Description { get; }

    /// <summary>Every object, read page by page from one snapshot, and the snapshot's resourceVersion.</summary>
    public async Task<(List<T> Items, string ResourceVersion)> ListAsync(CancellationToken cancellationToken)
    {
        var items = new List<T>();
        string? next = null;
        while (true)
        {
            var query = "limit=" + PageSize.ToString(CultureInfo.InvariantCulture) + (next is null ? "" : "&continue=" + Uri.EscapeDataString(next));
            using var response = await SendAsync(query, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var page = KubernetesJson.Deserialize<KubernetesList<T>>(text);
            items.AddRange(page.Items ?? []);
            next = page.Metadata?.ContinueProperty;
            if (string.IsNullOrEmpty(next))
            {
                return (items, page.Metadata?.ResourceVersion ?? "");
            }
        }
    }

    /// <summary>
    /// The events after <paramref name="resourceVersion"/>, with bookmarks, until the server ends the watch after
    /// <paramref name="timeout"/>. An <c>ERROR</c> event ends the stream with a <see cref="KubernetesException"/>.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string resourceVersion, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = "watch=true&allowWatchBookmarks=true&resourceVersion=" + Uri.EscapeDataString(resourceVersion)
            + "&timeoutSeconds=" + ((long)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        using var response = await SendAsync(query, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length > 0)
            {
                yield return Parse(line);
            }
        }
    }

    private static WatchEvent<T> Parse(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var type = root.GetProperty("type").GetString();
        var body = root.GetProperty("object");
        switch (type)
        {
            case "ERROR":
                throw new KubernetesException(KubernetesJson.Deserialize<V1Status>(body));
            case "BOOKMARK":
                var version = body.GetProperty("metadata").GetProperty("resourceVersion").GetString() ?? "";
                return new WatchEvent<T>(WatchEventType.Bookmark, null, version);
            default:
                var obj = KubernetesJson.Deserialize<T>(body);
                var eventType = type switch
                {
                    "ADDED" => WatchEventType.Added,
                    "MODIFIED" => WatchEventType.Modified,
                    "DELETED" => WatchEventType.Deleted,
                    _ => throw new InvalidDataException($"Unknown watch event type '{type}'."),
                };
                return new WatchEvent<T>(eventType, obj, obj.Metadata.ResourceVersion ?? "");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string query, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(client.BaseUri.AbsoluteUri.TrimEnd('/') + "/" + path + "?" + query
            + (string.IsNullOrEmpty(labelSelector) ? "" : "&labelSelector=" + Uri.EscapeDataString(labelSelector))));
        if (client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var response = await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            V1Status status;
            try
            {
                status = KubernetesJson.Deserialize<V1Status>(text);
            }
            catch (JsonException)
            {
                status = new V1Status { Code = (int)response.StatusCode, Message = text };
            }

            status.Code ??= (int)response.StatusCode;
            throw new KubernetesException(status);
        }
    }
}

/// <summary>One event of a watch: for a bookmark, only the resourceVersion.</summary>
internal sealed record WatchEvent<T>(WatchEventType Type, T? Object, string ResourceVersion);

/// <summary>Status codes the informer acts on.</summary>
internal static class WatchErrors
{
    /// <summary>Whether <paramref name="exception"/> says the resourceVersion is older than the server keeps (410 Gone).</summary>
    public static bool IsGone(Exception exception) =>
        exception is KubernetesException { Status.Code: (int)HttpStatusCode.Gone };
}
