using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace DeepSeekOperator.Api.Schema;

/// <summary>
/// What the API server does with a custom object and its structural schema, in its order: report fields the
/// schema does not declare, drop nulls of non-nullable fields, apply defaults, then validate types, required
/// fields, enums, bounds, patterns, lengths, item counts and list-map keys. CEL rules (<c>x-kubernetes-validations</c>)
/// are not evaluated here; see <see cref="CelRule"/>.
/// </summary>
public static class StructuralSchema
{
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Fields present in <paramref name="node"/> that <paramref name="schema"/> does not declare.</summary>
    /// <param name="node">The object.</param>
    /// <param name="schema">Its schema.</param>
    /// <param name="path">The path of <paramref name="node"/>, empty for the root.</param>
    public static IReadOnlyList<FieldError> UnknownFields(JsonNode? node, V1JSONSchemaProps schema, string path = "")
    {
        var errors = new List<FieldError>();
        CollectUnknown(node, schema, path, errors);
        return errors;
    }

    /// <summary>Drops nulls of non-nullable fields, then fills missing fields that have a default, recursively.</summary>
    public static void ApplyDefaults(JsonNode? node, V1JSONSchemaProps schema)
    {
        switch (node)
        {
            case JsonObject obj when schema.Properties is { } properties:
                foreach (var (name, propertySchema) in properties)
                {
                    if (obj.TryGetPropertyValue(name, out var value) && value is null && propertySchema.Nullable != true)
                    {
                        obj.Remove(name);
                    }

                    if (!obj.ContainsKey(name) && propertySchema.DefaultProperty is { } defaultValue)
                    {
                        obj[name] = JsonSerializer.SerializeToNode(defaultValue);
                    }

                    if (obj[name] is { } child)
                    {
                        ApplyDefaults(child, propertySchema);
                    }
                }

                break;
            case JsonObject obj when schema.AdditionalProperties is V1JSONSchemaProps valueSchema:
                foreach (var (_, value) in obj.ToList())
                {
                    ApplyDefaults(value, valueSchema);
                }

                break;
            case JsonArray array when schema.Items is V1JSONSchemaProps itemSchema:
                foreach (var item in array)
                {
                    ApplyDefaults(item, itemSchema);
                }

                break;
        }
    }

    /// <summary>Validates <paramref name="node"/> against <paramref name="schema"/>, without CEL rules.</summary>
    /// <param name="node">The value.</param>
    /// <param name="schema">Its schema.</param>
    /// <param name="path">The path of <paramref name="node"/>, empty for the root.</param>
    public static IReadOnlyList<FieldError> Validate(JsonNode? node, V1JSONSchemaProps schema, string path = "")
    {
        var errors = new List<FieldError>();
        ValidateNode(node, schema, path, errors);
        return errors;
    }

    /// <summary>The path of a named child: <c>spec.model</c>.</summary>
    public static string Child(string path, string name) => path.Length == 0 ? name : path + "." + name;

    /// <summary>The path of a list item: <c>spec.router.tolerations[0]</c>.</summary>
    public static string Index(string path, int index) => $"{path}[{index}]";

    /// <summary>The path of a map entry: <c>spec.router.nodeSelector[kubernetes.io/arch]</c>.</summary>
    public static string Key(string path, string key) => $"{path}[{key}]";

    private static void CollectUnknown(JsonNode? node, V1JSONSchemaProps schema, string path, List<FieldError> errors)
    {
        if (schema.XKubernetesPreserveUnknownFields == true)
        {
            return;
        }

        switch (node)
        {
            case JsonObject obj when schema.Properties is { } properties:
                foreach (var (name, value) in obj)
                {
                    if (properties.TryGetValue(name, out var propertySchema))
                    {
                        CollectUnknown(value, propertySchema, Child(path, name), errors);
                    }
                    else if (schema.AdditionalProperties is not (true or V1JSONSchemaProps))
                    {
                        errors.Add(new FieldError(Child(path, name), FieldErrorType.Unknown, null, string.Empty));
                    }
                }

                break;
            case JsonObject obj when schema.AdditionalProperties is V1JSONSchemaProps valueSchema:
                foreach (var (name, value) in obj)
                {
                    CollectUnknown(value, valueSchema, Key(path, name), errors);
                }

                break;
            case JsonArray array when schema.Items is V1JSONSchemaProps itemSchema:
                for (var i = 0; i < array.Count; i++)
                {
                    CollectUnknown(array[i], itemSchema, Index(path, i), errors);
                }

                break;
        }
    }

    private static void ValidateNode(JsonNode? node, V1JSONSchemaProps schema, string path, List<FieldError> errors)
    {
        if (node is null)
        {
            if (schema.Nullable != true)
            {
                errors.Add(TypeError(path, schema.Type ?? "object", node));
            }

            return;
        }

        if (schema.XKubernetesIntOrString == true)
        {
            if (!IsInteger(node) && !IsString(node))
            {
                errors.Add(new FieldError(path, FieldErrorType.Invalid, Show(node), $"{path} in body must be of type integer or string: {TypeName(node)}"));
                return;
            }
        }
        else if (schema.Type is { } type && !HasType(node, type))
        {
            errors.Add(TypeError(path, type, node));
            return;
        }

        if (schema.EnumProperty is { Count: > 0 } allowed && !allowed.Any(a => JsonNode.DeepEquals(JsonSerializer.SerializeToNode(a), node)))
        {
            errors.Add(new FieldError(path, FieldErrorType.NotSupported, Show(node),
                "supported values: " + string.Join(", ", allowed.Select(a => JsonSerializer.SerializeToNode(a)!.ToJsonString()))));
        }

        switch (node)
        {
            case JsonObject obj:
                ValidateObject(obj, schema, path, errors);
                break;
            case JsonArray array:
                ValidateArray(array, schema, path, errors);
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                ValidateString(value.GetValue<string>(), schema, path, errors);
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                ValidateNumber(value, schema, path, errors);
                break;
        }
    }

    private static void ValidateObject(JsonObject obj, V1JSONSchemaProps schema, string path, List<FieldError> errors)
    {
        foreach (var name in schema.Required ?? [])
        {
            if (!obj.ContainsKey(name))
            {
                errors.Add(new FieldError(Child(path, name), FieldErrorType.Required, null, string.Empty));
            }
        }

        foreach (var (name, value) in obj)
        {
            if (schema.Properties is { } properties && properties.TryGetValue(name, out var propertySchema))
            {
                ValidateNode(value, propertySchema, Child(path, name), errors);
            }
            else if (schema.AdditionalProperties is V1JSONSchemaProps valueSchema)
            {
                ValidateNode(value, valueSchema, Key(path, name), errors);
            }
        }
    }

    private static void ValidateArray(JsonArray array, V1JSONSchemaProps schema, string path, List<FieldError> errors)
    {
        if (schema.MaxItems is { } maxItems && array.Count > maxItems)
        {
            errors.Add(new FieldError(path, FieldErrorType.TooMany, array.Count.ToString(CultureInfo.InvariantCulture), $"must have at most {maxItems} items"));
        }

        if (schema.MinItems is { } minItems && array.Count < minItems)
        {
            errors.Add(new FieldError(path, FieldErrorType.Invalid, Show(array), $"{path} in body should have at least {minItems} items"));
        }

        if (schema.Items is V1JSONSchemaProps itemSchema)
        {
            for (var i = 0; i < array.Count; i++)
            {
                ValidateNode(array[i], itemSchema, Index(path, i), errors);
            }
        }

        if (schema.XKubernetesListType == "map" && schema.XKubernetesListMapKeys is { Count: > 0 } keys)
        {
            var seen = new List<JsonObject>();
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonObject item)
                {
                    continue;
                }

                var key = new JsonObject(keys.Select(k => KeyValuePair.Create(k, item[k]?.DeepClone())));
                if (seen.Any(s => JsonNode.DeepEquals(s, key)))
                {
                    errors.Add(new FieldError(Index(path, i), FieldErrorType.Duplicate, key.ToJsonString(), string.Empty));
                }

                seen.Add(key);
            }
        }
    }

    private static void ValidateString(string text, V1JSONSchemaProps schema, string path, List<FieldError> errors)
    {
        var length = text.EnumerateRunes().Count();
        if (schema.MaxLength is { } maxLength && length > maxLength)
        {
            errors.Add(new FieldError(path, FieldErrorType.TooLong, null, $"may not be more than {maxLength} bytes"));
        }

        if (schema.MinLength is { } minLength && length < minLength)
        {
            errors.Add(new FieldError(path, FieldErrorType.Invalid, Show(JsonValue.Create(text)), $"{path} in body should be at least {minLength} chars long"));
        }

        if (schema.Pattern is { } pattern && !Regex.IsMatch(text, pattern, RegexOptions.CultureInvariant, PatternTimeout))
        {
            errors.Add(new FieldError(path, FieldErrorType.Invalid, Show(JsonValue.Create(text)), $"{path} in body should match '{pattern}'"));
        }
    }

    private static void ValidateNumber(JsonValue value, V1JSONSchemaProps schema, string path, List<FieldError> errors)
    {
        var number = AsDouble(value);
        if (schema.Minimum is { } minimum)
        {
            if (schema.ExclusiveMinimum == true ? number <= minimum : number < minimum)
            {
                var relation = schema.ExclusiveMinimum == true ? "greater than" : "greater than or equal to";
                errors.Add(new FieldError(path, FieldErrorType.Invalid, Show(value), $"{path} in body should be {relation} {Number(minimum)}"));
            }
        }

        if (schema.Maximum is { } maximum)
        {
            if (schema.ExclusiveMaximum == true ? number >= maximum : number > maximum)
            {
                var relation = schema.ExclusiveMaximum == true ? "less than" : "less than or equal to";
                errors.Add(new FieldError(path, FieldErrorType.Invalid, Show(value), $"{path} in body should be {relation} {Number(maximum)}"));
            }
        }
    }

    private static FieldError TypeError(string path, string type, JsonNode? node) =>
        new(path, FieldErrorType.Invalid, $"\"{TypeName(node)}\"", $"{path} in body must be of type {type}: \"{TypeName(node)}\"");

    private static bool HasType(JsonNode node, string type) => type switch
    {
        "object" => node is JsonObject,
        "array" => node is JsonArray,
        "string" => IsString(node),
        "boolean" => node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "integer" => IsInteger(node),
        "number" => node is JsonValue v && v.GetValueKind() == JsonValueKind.Number,
        _ => true,
    };

    private static bool IsString(JsonNode node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String;

    private static bool IsInteger(JsonNode node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && double.IsInteger(AsDouble(v));

    // A JsonValue may hold a long, an int or a JsonElement; its JSON text reads back as a double whatever it holds.
    private static double AsDouble(JsonValue value) => double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string TypeName(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => IsInteger(v) ? "integer" : "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "null",
        },
        _ => "null",
    };

    private static string Show(JsonNode? node) => FieldError.Show(node);

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
