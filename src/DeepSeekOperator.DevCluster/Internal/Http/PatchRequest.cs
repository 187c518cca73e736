using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>A PATCH request: its media type and body, applied to the current object.</summary>
internal sealed class PatchRequest
{
    private readonly JsonNode? patch;

    private PatchRequest(JsonNode? patch, bool isApply)
    {
        this.patch = patch;
        IsApply = isApply;
    }

    /// <summary>True for server-side apply, which creates a missing object.</summary>
    public bool IsApply { get; }

    public static PatchRequest Create(ResourceType type, string contentType, byte[] body, WriteOptions options, bool force, TimeProvider time)
    {
        _ = (type, options, force, time);
        return contentType switch
        {
            "application/merge-patch+json" => new PatchRequest(ApiHandler.ParseJson(body), false),
            _ => throw ApiException.UnsupportedMediaType("application/merge-patch+json"),
        };
    }

    public JsonObject Apply(JsonObject? current) => (JsonObject)Merge(current, patch)!;

    private static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? [];
        foreach (var (key, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = Merge(result[key]?.DeepClone(), value);
            }
        }

        return result;
    }
}
