using System.Text.Json.Nodes;
using DeepSeekOperator.Tests;
using NJsonSchema;

namespace DeepSeekOperator.Api.Tests;

/// <summary>The checked-in CRD, read back as JSON, and its schema turned into a JSON Schema for an independent validator.</summary>
internal static class SchemaFiles
{
    public static string CrdPath => Repository.PathOf("crds/" + CustomResourceDefinitions.DeepSeekModelFileName);

    public static JsonObject OpenApiSchema(JsonNode crd) =>
        crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.AsObject();

    /// <summary>
    /// The OpenAPI v3.0 schema as a JSON Schema draft-07 document: boolean exclusive bounds become numeric, nullable
    /// becomes a type union, Kubernetes extensions are dropped, and objects with declared properties reject
    /// undeclared ones, as kubectl's strict field validation does. metadata stays open: ObjectMeta is not in the schema.
    /// </summary>
    public static JsonSchema ToJsonSchema(JsonObject openApi)
    {
        var converted = Convert(openApi, isRoot: true)!.AsObject();
        converted["$schema"] = "http://json-schema.org/draft-07/schema#";
        return JsonSchema.FromJsonAsync(converted.ToJsonString()).GetAwaiter().GetResult();
    }

    private static JsonNode? Convert(JsonNode? node, bool isRoot = false)
    {
        if (node is not JsonObject schema)
        {
            return node?.DeepClone();
        }

        var result = new JsonObject();
        foreach (var (key, value) in schema)
        {
            switch (key)
            {
                case var _ when key.StartsWith("x-kubernetes-", StringComparison.Ordinal):
                case "nullable" or "exclusiveMinimum" or "exclusiveMaximum":
                    break;
                case "properties":
                    result[key] = new JsonObject(value!.AsObject().Select(p =>
                        KeyValuePair.Create(p.Key, isRoot && p.Key == "metadata" ? p.Value!.DeepClone() : Convert(p.Value))));
                    break;
                case "additionalProperties" or "items" or "not":
                    result[key] = Convert(value);
                    break;
                case "anyOf" or "allOf" or "oneOf":
                    result[key] = new JsonArray([.. value!.AsArray().Select(v => Convert(v))]);
                    break;
                default:
                    result[key] = value?.DeepClone();
                    break;
            }
        }

        if (schema["nullable"]?.GetValue<bool>() == true && schema["type"] is JsonValue type)
        {
            result["type"] = new JsonArray(type.GetValue<string>(), "null");
        }

        foreach (var (flag, bound) in new[] { ("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum") })
        {
            if (schema[flag]?.GetValue<bool>() == true)
            {
                result[flag] = schema[bound]!.DeepClone();
                result.Remove(bound);
            }
        }

        if (schema["properties"] is not null && schema["additionalProperties"] is null && schema["x-kubernetes-preserve-unknown-fields"] is null)
        {
            result["additionalProperties"] = false;
        }

        return result;
    }
}
