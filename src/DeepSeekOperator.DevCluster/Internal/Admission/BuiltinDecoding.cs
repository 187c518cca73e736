using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Admission;

/// <summary>
/// The Go types of the typed scalar fields of built-in kinds that the emulator and the operator read (replica counts,
/// history limits, grace periods). kube-apiserver decodes a body into the Go struct before anything else, so a value
/// of the wrong JSON type fails the request with 400 BadRequest, e.g. <c>Deployment in version "v1" cannot be handled
/// as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32</c>.
/// </summary>
internal static class BuiltinDecoding
{
    private static readonly FrozenDictionary<string, TypedField[]> Fields = BuildFields();

    /// <summary>Fails a create or update body whose typed fields do not decode, as kube-apiserver's decoder does.</summary>
    public static void Check(ResourceType type, string version, JsonObject body)
    {
        if (type.Custom is not null || !Fields.TryGetValue(type.Group + "/" + type.Kind, out var fields))
        {
            return;
        }

        foreach (var field in fields)
        {
            JsonNode? node = body;
            foreach (var segment in field.Path.Split('.'))
            {
                node = node is JsonObject parent ? parent[segment] : null;
            }

            if (node is not null && Mismatch(node, field.GoType) is { } found)
            {
                var kind = Json.String(body["kind"]) is { Length: > 0 } given ? given : type.Kind;
                var apiVersion = Json.String(body["apiVersion"]);
                var dataVersion = string.IsNullOrEmpty(apiVersion) ? version : apiVersion[(apiVersion.IndexOf('/', StringComparison.Ordinal) + 1)..];
                throw ApiException.BadRequest(
                    $"{kind} in version \"{dataVersion}\" cannot be handled as a {type.Kind}: " +
                    $"json: cannot unmarshal {found} into Go struct field {field.Struct}.{field.Path} of type {field.GoType}");
            }
        }
    }

    /// <summary>How Go's decoder names a JSON value it cannot put in <paramref name="goType"/>; null when it can.</summary>
    private static string? Mismatch(JsonNode node, string goType)
    {
        var kind = node.GetValueKind();
        return (kind, goType) switch
        {
            (JsonValueKind.Null, _) => null,
            (JsonValueKind.True or JsonValueKind.False, "bool") => null,
            (JsonValueKind.Number, "int32") => Json.Int64(node) is >= int.MinValue and <= int.MaxValue ? null : "number " + node.ToJsonString(),
            (JsonValueKind.Number, "int64") => Json.Int64(node) is not null ? null : "number " + node.ToJsonString(),
            (JsonValueKind.String, _) => "string",
            (JsonValueKind.Number, _) => "number",
            (JsonValueKind.True or JsonValueKind.False, _) => "bool",
            (JsonValueKind.Array, _) => "array",
            _ => "object",
        };
    }

    private static FrozenDictionary<string, TypedField[]> BuildFields()
    {
        TypedField[] podTemplate = [new("spec.template.spec.terminationGracePeriodSeconds", "PodSpec", "int64")];
        return new Dictionary<string, TypedField[]>
        {
            ["apps/Deployment"] =
            [
                new("spec.replicas", "DeploymentSpec", "int32"),
                new("spec.minReadySeconds", "DeploymentSpec", "int32"),
                new("spec.revisionHistoryLimit", "DeploymentSpec", "int32"),
                new("spec.progressDeadlineSeconds", "DeploymentSpec", "int32"),
                new("spec.paused", "DeploymentSpec", "bool"),
                .. podTemplate,
            ],
            ["apps/ReplicaSet"] =
            [
                new("spec.replicas", "ReplicaSetSpec", "int32"),
                new("spec.minReadySeconds", "ReplicaSetSpec", "int32"),
                .. podTemplate,
            ],
            ["apps/StatefulSet"] =
            [
                new("spec.replicas", "StatefulSetSpec", "int32"),
                new("spec.minReadySeconds", "StatefulSetSpec", "int32"),
                new("spec.revisionHistoryLimit", "StatefulSetSpec", "int32"),
                .. podTemplate,
            ],
            ["/Pod"] = [new("spec.terminationGracePeriodSeconds", "PodSpec", "int64")],
            ["autoscaling/HorizontalPodAutoscaler"] =
            [
                new("spec.minReplicas", "HorizontalPodAutoscalerSpec", "int32"),
                new("spec.maxReplicas", "HorizontalPodAutoscalerSpec", "int32"),
            ],
        }.ToFrozenDictionary();
    }

    /// <summary>A typed field: its JSON path, the Go struct that holds it and its Go type.</summary>
    private sealed record TypedField(string Path, string Struct, string GoType);
}
