using System.Text.Json.Nodes;

namespace DeepSeekOperator.Api.Tests;

/// <summary>
/// The rules of the Kubernetes documentation, "Specifying a structural schema", plus the list-map key rule the API
/// server enforces on CRD creation. Returns a sentence for every violation.
/// </summary>
internal static class StructuralSchemaRules
{
    private static readonly string[] Junctors = ["allOf", "anyOf", "oneOf", "not"];
    private static readonly string[] ForbiddenInJunctors = ["description", "type", "default", "additionalProperties", "nullable"];

    public static List<string> Violations(JsonObject root)
    {
        var violations = new List<string>();
        Check(root, "<root>", violations);
        if (root["properties"]?["metadata"] is JsonObject metadata)
        {
            var restricted = metadata["properties"]?.AsObject().Select(p => p.Key).Where(k => k is not ("name" or "generateName")).ToList() ?? [];
            if (restricted.Count > 0 || metadata.Any(p => p.Key is not ("type" or "properties" or "description")))
            {
                violations.Add("metadata: only restrictions on metadata.name and metadata.generateName are allowed");
            }
        }

        return violations;
    }

    private static void Check(JsonObject schema, string path, List<string> violations)
    {
        var intOrString = schema["x-kubernetes-int-or-string"]?.GetValue<bool>() == true;
        var preserve = schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() == true;
        if (schema["type"] is null && !intOrString && !preserve)
        {
            violations.Add($"{path}: no type");
        }

        if (schema["properties"] is not null && schema["additionalProperties"] is not null)
        {
            violations.Add($"{path}: both properties and additionalProperties");
        }

        if (schema["items"] is JsonArray)
        {
            violations.Add($"{path}: items must be one schema, not a list");
        }

        foreach (var junctor in Junctors)
        {
            foreach (var inner in schema[junctor] switch { JsonArray a => a.OfType<JsonObject>(), JsonObject o => [o], _ => [] })
            {
                CheckJunctor(schema, inner, $"{path}.{junctor}", intOrString, violations);
            }
        }

        if (schema["x-kubernetes-list-type"]?.GetValue<string>() == "map")
        {
            var item = schema["items"] as JsonObject;
            foreach (var key in schema["x-kubernetes-list-map-keys"]?.AsArray().Select(k => (string)k!) ?? [])
            {
                var required = item?["required"]?.AsArray().Any(r => (string?)r == key) == true;
                if (!required && item?["properties"]?[key]?["default"] is null)
                {
                    violations.Add($"{path}: list-map key {key} must be required or have a default");
                }
            }
        }

        foreach (var (name, child) in schema["properties"]?.AsObject() ?? [])
        {
            Check(child!.AsObject(), $"{path}.{name}", violations);
        }

        if (schema["additionalProperties"] is JsonObject values)
        {
            Check(values, $"{path}[*]", violations);
        }

        if (schema["items"] is JsonObject items)
        {
            Check(items, $"{path}[]", violations);
        }
    }

    private static void CheckJunctor(JsonObject outer, JsonObject inner, string path, bool intOrString, List<string> violations)
    {
        // The one exception: x-kubernetes-int-or-string's anyOf: [{type: integer}, {type: string}].
        var intOrStringBranch = intOrString && inner.Count == 1 && (string?)inner["type"] is "integer" or "string";
        foreach (var keyword in ForbiddenInJunctors.Where(k => inner[k] is not null && !intOrStringBranch))
        {
            violations.Add($"{path}: {keyword} inside {path.Split('.')[^1]}");
        }

        foreach (var (name, _) in inner["properties"]?.AsObject() ?? [])
        {
            if (outer["properties"]?[name] is null)
            {
                violations.Add($"{path}: field {name} not specified outside the junctor");
            }
        }

        if (inner["items"] is not null && outer["items"] is null)
        {
            violations.Add($"{path}: items not specified outside the junctor");
        }
    }
}
