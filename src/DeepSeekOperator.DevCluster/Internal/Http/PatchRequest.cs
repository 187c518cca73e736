using System.Text;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Patching;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>
/// A PATCH request: its media type (JSON patch, merge patch, strategic merge patch for built-in kinds, or
/// server-side apply) and body, applied to the current object as kube-apiserver's patcher does.
/// </summary>
internal sealed class PatchRequest
{
    private readonly ResourceType type;
    private readonly string version;
    private readonly string patchType;
    private readonly string body;
    private readonly JsonNode? applied;
    private readonly WriteOptions options;
    private readonly bool force;
    private readonly FieldManager fieldManager;
    private readonly string name;

    private PatchRequest(ResourceType type, string version, string name, string patchType, string body, WriteOptions options, bool force, FieldManager fieldManager)
    {
        this.type = type;
        this.version = version;
        this.name = name;
        this.patchType = patchType;
        this.body = body;
        this.options = options;
        this.force = force;
        this.fieldManager = fieldManager;
        if (patchType == PatchTypes.Apply)
        {
            applied = ApplyPatchBody.Parse(body);
        }
    }

    /// <summary>True for server-side apply, which creates a missing object.</summary>
    public bool IsApply => patchType == PatchTypes.Apply;

    public static PatchRequest Create(
        ResourceType type, string version, string name, string? contentType, byte[] body, WriteOptions options, bool force, FieldManager fieldManager)
    {
        var patchType = PatchTypes.Negotiate(contentType, type.Custom is null ? PatchTypes.BuiltIn : PatchTypes.CustomResource);
        if (force && patchType != PatchTypes.Apply)
        {
            throw ApiException.BadRequest("force: Invalid value: true: may not be specified for non-apply patch");
        }

        if (patchType == PatchTypes.Apply && string.IsNullOrEmpty(options.FieldManager))
        {
            throw ApiException.BadRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
        }

        var request = new PatchRequest(type, version, name, patchType, Encoding.UTF8.GetString(body), options, force, fieldManager);
        if (request.IsApply)
        {
            options.IsApply = true;
        }

        return request;
    }

    /// <summary>The patched object, from the current one (null when there is none, for apply).</summary>
    public JsonObject Apply(JsonObject? current)
    {
        if (IsApply)
        {
            return fieldManager.ApplyPatch(current, applied, name, options.FieldManager!, force, ObjectService.FieldScope(type, version, null));
        }

        var patched = patchType switch
        {
            PatchTypes.Json => JsonPatch.Apply(current!, body),
            PatchTypes.Merge => JsonMergePatch.Apply(current, body),
            _ => StrategicMergePatch.Apply(current!, body, BuiltInSchema.For(type.Group, type.Kind)),
        };
        return patched as JsonObject ?? throw ApiException.BadRequest($"the patched object is not a JSON object (must be of type {type.Kind})");
    }
}
