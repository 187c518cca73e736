using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Resources;
using Microsoft.AspNetCore.Http;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>Where <c>pods/log</c> reads from: the pod runner of the dev cluster, when one runs.</summary>
internal interface IPodLogSource
{
    /// <summary>
    /// Streams a container's log to <paramref name="output"/>; false when the container has not started
    /// (the server then answers as kube-apiserver does for a waiting container).
    /// </summary>
    Task<bool> StreamAsync(JsonObject pod, string container, PodLogOptions options, Stream output, CancellationToken cancellationToken);
}

/// <summary>The query of a <c>pods/log</c> request.</summary>
internal sealed record PodLogOptions(bool Follow, bool Previous, long? TailLines, long? SinceSeconds, bool Timestamps, long? LimitBytes);

/// <summary>The <c>scale</c>, <c>log</c> and <c>binding</c> subresources.</summary>
internal sealed partial class ApiHandler
{
    private async Task ScaleAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var spec = type.Scale!;
        if (context.Request.Method == "GET")
        {
            await WriteJsonAsync(context, 200, ToScale(type, spec, objects.Get(type, path.Version, path.Namespace, path.Name)));
            return;
        }

        var options = WriteOptionsOf(context);
        Func<JsonObject, JsonObject> change;
        if (context.Request.Method == "PUT")
        {
            var body = await ReadObjectAsync(context, type);
            change = _ => body;
        }
        else
        {
            var scaleKind = type with { Group = "autoscaling", Versions = ["v1"], Kind = "Scale", Custom = null };
            var patcher = PatchRequest.Create(scaleKind, "v1", path.Name, context.Request.ContentType, await ReadBodyAsync(context), options, force: false, objects.FieldManager);
            if (patcher.IsApply)
            {
                throw ApiException.UnsupportedMediaType("application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json");
            }

            change = patcher.Apply;
        }

        var scaleType = type with { Group = "autoscaling", Kind = "Scale" };
        var result = objects.Patch(type, path.Version, path.Namespace, path.Name, current =>
        {
            var scale = change(ToScale(type, spec, current!));
            var wanted = scale["spec"]?["replicas"];
            long replicas = 0;
            if (Json.Int64(wanted) is not { } given || (replicas = given) < 0)
            {
                throw ApiException.Invalid(scaleType, path.Name, [FieldError.Invalid("spec.replicas", wanted, "must be greater than or equal to 0")]);
            }

            if (Meta.ResourceVersion(scale) is { Length: > 0 } rv && rv != Meta.ResourceVersion(current!))
            {
                throw ApiException.StaleResourceVersion(type, path.Name);
            }

            SetPath(current!, spec.SpecReplicasPath, JsonValue.Create(replicas));
            return current!;
        }, options, null, createIfMissing: false);
        AddWarnings(context, options);
        await WriteJsonAsync(context, 200, ToScale(type, spec, result));
    }

    private static JsonObject ToScale(ResourceType type, ScaleSpec spec, JsonObject obj)
    {
        var metadata = new JsonObject
        {
            ["name"] = Meta.Name(obj),
            ["uid"] = Meta.Uid(obj),
            ["resourceVersion"] = Meta.ResourceVersion(obj),
            ["creationTimestamp"] = Meta.String(obj, "creationTimestamp"),
        };
        if (type.Namespaced)
        {
            metadata["namespace"] = Meta.Namespace(obj);
        }

        var status = new JsonObject { ["replicas"] = GetPath(obj, spec.StatusReplicasPath)?.DeepClone() ?? 0 };
        var selector = spec.LabelSelectorPath is { } selectorPath
            ? GetPath(obj, selectorPath)?.ToString()
            : SelectorString(obj["spec"]?["selector"] as JsonObject);
        if (!string.IsNullOrEmpty(selector))
        {
            status["selector"] = selector;
        }

        return new JsonObject
        {
            ["kind"] = "Scale",
            ["apiVersion"] = "autoscaling/v1",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["replicas"] = GetPath(obj, spec.SpecReplicasPath)?.DeepClone() ?? 0 },
            ["status"] = status,
        };
    }

    /// <summary>A <c>metav1.LabelSelector</c> in the string form of <c>metav1.FormatLabelSelector</c>.</summary>
    private static string SelectorString(JsonObject? selector)
    {
        if (selector is null)
        {
            return "";
        }

        var parts = new List<string>();
        if (selector["matchLabels"] is JsonObject labels)
        {
            parts.AddRange(labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
        }

        if (selector["matchExpressions"] is JsonArray expressions)
        {
            foreach (var expression in expressions.OfType<JsonObject>())
            {
                var key = expression["key"]?.ToString();
                var values = ((expression["values"] as JsonArray) ?? []).Select(v => v?.ToString()).Order(StringComparer.Ordinal);
                parts.Add(expression["operator"]?.ToString() switch
                {
                    "In" => $"{key} in ({string.Join(",", values)})",
                    "NotIn" => $"{key} notin ({string.Join(",", values)})",
                    "Exists" => key!,
                    "DoesNotExist" => $"!{key}",
                    _ => "",
                });
            }
        }

        return string.Join(",", parts);
    }

    private static JsonNode? GetPath(JsonObject obj, string path)
    {
        JsonNode? node = obj;
        foreach (var field in path.TrimStart('.').Split('.'))
        {
            node = node is JsonObject o ? o[field] : null;
        }

        return node;
    }

    private static void SetPath(JsonObject obj, string path, JsonNode value)
    {
        var fields = path.TrimStart('.').Split('.');
        var node = obj;
        foreach (var field in fields[..^1])
        {
            if (node[field] is not JsonObject child)
            {
                child = [];
                node[field] = child;
            }

            node = child;
        }

        node[fields[^1]] = value;
    }

    private async Task LogAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var pod = objects.Get(type, path.Version, path.Namespace, path.Name);
        var containers = (pod["spec"]?["containers"] as JsonArray)?.Select(c => c?["name"]?.ToString() ?? "").ToList() ?? [];
        var query = context.Request.Query;
        var container = query["container"].FirstOrDefault();
        if (string.IsNullOrEmpty(container))
        {
            if (containers.Count != 1)
            {
                throw ApiException.BadRequest($"a container name must be specified for pod {path.Name}, choose one of: [{string.Join(" ", containers)}]");
            }

            container = containers[0];
        }
        else if (!containers.Contains(container) && !((pod["spec"]?["initContainers"] as JsonArray)?.Any(c => c?["name"]?.ToString() == container) ?? false))
        {
            throw ApiException.BadRequest($"container {container} is not valid for pod {path.Name}");
        }

        var options = new PodLogOptions(
            IsTrue(query["follow"]),
            IsTrue(query["previous"]),
            long.TryParse(query["tailLines"].FirstOrDefault(), out var tail) ? tail : null,
            long.TryParse(query["sinceSeconds"].FirstOrDefault(), out var since) ? since : null,
            IsTrue(query["timestamps"]),
            long.TryParse(query["limitBytes"].FirstOrDefault(), out var limit) ? limit : null);
        context.Response.ContentType = "text/plain";
        if (PodLogs is not { } logs || !await logs.StreamAsync(pod, container, options, context.Response.Body, context.RequestAborted))
        {
            if (context.Response.HasStarted)
            {
                return;
            }

            throw ApiException.BadRequest($"container \"{container}\" in pod \"{path.Name}\" is waiting to start: ContainerCreating");
        }
    }

    private async Task BindAsync(HttpContext context, ResourceType type, RequestPath path)
    {
        var binding = await ReadObjectAsync(context, type with { Kind = "Binding" });
        var node = binding["target"]?["name"]?.ToString();
        if (string.IsNullOrEmpty(node))
        {
            throw ApiException.Invalid(type with { Kind = "Binding" }, path.Name, [FieldError.Required("target.name")]);
        }

        PodBinding.Bind(objects, type, path.Version, path.Namespace, path.Name, node, Meta.Uid(binding), WriteOptionsOf(context));
        await WriteJsonAsync(context, 201, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["code"] = 201,
        });
    }
}
