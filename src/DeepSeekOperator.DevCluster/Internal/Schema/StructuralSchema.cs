using System.Text.Json;
using System.Text.Json.Nodes;
using static DeepSeekOperator.DevCluster.Internal.Schema.SchemaJson;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Checks the <c>openAPIV3Schema</c> of a CRD version when the CRD is created or updated, as apiextensions'
/// <c>validateCustomResourceDefinitionValidation</c> does for <c>apiextensions.k8s.io/v1</c>: that the schema is
/// structural (<c>ValidateStructural</c>, errors sorted), that its defaults validate and are pruned
/// (<c>ValidateDefaults</c>, only for a structural schema), the per-node rules of
/// <c>ValidateCustomResourceDefinitionOpenAPISchema</c>, and finally the compilation of its CEL rules.
/// </summary>
internal static class StructuralSchema
{
    private enum Level
    {
        Root,
        Item,
        Field,
    }

    /// <summary>
    /// Checks <paramref name="schema"/>, found at <paramref name="path"/>
    /// (<c>spec.versions[0].schema.openAPIV3Schema</c>), compiling its <c>x-kubernetes-validations</c> with
    /// <paramref name="rules"/> once the rest of the schema is sound.
    /// </summary>
    public static IReadOnlyList<FieldError> CheckStructural(JsonObject schema, string path, IValidationRules rules)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(rules);
        var shape = new List<FieldError>();
        SchemaShape.Check(schema, path, shape);
        if (shape.Count > 0)
        {
            return shape;
        }

        var errors = new List<FieldError>();
        if (Flag(schema, "nullable"))
        {
            errors.Add(FieldError.Forbidden(Child(path, "nullable"), "nullable cannot be true at the root"));
        }

        var structural = new List<FieldError>();
        Invariants(schema, Level.Root, path, structural);
        Completeness(schema, schema, path, path, structural);
        structural.Sort((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
        var rulesCompile = false;
        if (structural.Count > 0)
        {
            errors.AddRange(structural);
        }
        else
        {
            var defaults = new List<FieldError>();
            SchemaDefaultsCheck.Check(schema, path, rules, defaults);
            errors.AddRange(defaults);
            rulesCompile = defaults.Count == 0;
        }

        errors.AddRange(OpenApiSchemaCheck.Check(schema, path, rules, rulesCompile));
        return errors;
    }

    private static void Invariants(JsonObject s, Level level, string path, List<FieldError> errors)
    {
        var type = Text(s, "type");
        var items = s["items"] as JsonObject;
        var intOrString = Flag(s, "x-kubernetes-int-or-string");
        var preserve = Flag(s, "x-kubernetes-preserve-unknown-fields");
        var embedded = Flag(s, "x-kubernetes-embedded-resource");
        var hasAdditional = Has(s, "additionalProperties");
        if (type == "array" && items is null)
        {
            errors.Add(FieldError.Required(Child(path, "items"), "must be specified"));
        }

        if (items is not null)
        {
            Invariants(items, Level.Item, Child(path, "items"), errors);
        }

        foreach (var (name, property) in Map(s, "properties"))
        {
            Invariants(property, Level.Field, Key(path, "properties", name), errors);
        }

        if (hasAdditional)
        {
            if (level == Level.Root)
            {
                errors.Add(FieldError.Forbidden(Child(path, "additionalProperties"), "must not be used at the root"));
            }

            if (s["additionalProperties"] is JsonObject additional)
            {
                Invariants(additional, Level.Field, Child(path, "additionalProperties"), errors);
            }
        }

        if (intOrString && preserve)
        {
            errors.Add(new FieldError(FieldErrorType.Invalid, Child(path, "x-kubernetes-preserve-unknown-fields"), "true", "must be false if x-kubernetes-int-or-string is true"));
        }

        if (intOrString && embedded)
        {
            errors.Add(new FieldError(FieldErrorType.Invalid, Child(path, "x-kubernetes-embedded-resource"), "true", "must be false if x-kubernetes-int-or-string is true"));
        }

        var allOf = List(s, "allOf");
        ValueValidation(s, IsIntOrStringAnyOf(s), allOf.Count > 0 && IsIntOrStringAnyOf(allOf[0]), level, path, errors);
        var checkMetadata = level == Level.Root || embedded;
        if (embedded && type != "object")
        {
            errors.Add(type.Length == 0
                ? FieldError.Required(Child(path, "type"), "must be object if x-kubernetes-embedded-resource is true")
                : FieldError.Invalid(Child(path, "type"), type, "must be object if x-kubernetes-embedded-resource is true"));
        }
        else if (type.Length == 0 && !intOrString && !preserve)
        {
            errors.Add(FieldError.Required(Child(path, "type"), level switch
            {
                Level.Root => "must not be empty at the root",
                Level.Item => "must not be empty for specified array items",
                _ => "must not be empty for specified object fields",
            }));
        }

        if (embedded && hasAdditional)
        {
            errors.Add(FieldError.Forbidden(Child(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"));
        }

        if (level == Level.Root && type.Length > 0 && type != "object")
        {
            errors.Add(FieldError.Invalid(Child(path, "type"), type, "must be object at the root"));
        }

        foreach (var meta in new[] { "kind", "apiVersion" })
        {
            if (checkMetadata && Property(s, meta) is { } property && Text(property, "type") != "string")
            {
                errors.Add(FieldError.Invalid(Child(Key(path, "properties", meta), "type"), Text(property, "type"), "must be string"));
            }
        }

        if (Property(s, "metadata") is { } metadata)
        {
            MetadataInvariants(metadata, checkMetadata, level, Key(path, "properties", "metadata"), errors);
        }

        if (embedded && !preserve && !Map(s, "properties").Any())
        {
            errors.Add(FieldError.Required(Child(path, "properties"), "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"));
        }
    }

    private static void MetadataInvariants(JsonObject metadata, bool checkMetadata, Level level, string path, List<FieldError> errors)
    {
        if (checkMetadata && Text(metadata, "type") != "object")
        {
            errors.Add(FieldError.Invalid(Child(path, "type"), Text(metadata, "type"), "must be object"));
        }

        if (level != Level.Root)
        {
            return;
        }

        var names = metadata["properties"] is JsonObject properties ? properties.Select(p => p.Key).ToList() : null;
        var onlyNames = names is { Count: > 0 } && names.All(n => n is "name" or "generateName");
        var restricts = metadata.Any(p => p.Key switch
        {
            "type" or "default" => false,
            "properties" => !onlyNames,
            _ => StructuralKeywords.Contains(p.Key) && IsSet(p.Value),
        });
        if (restricts)
        {
            errors.Add(FieldError.Forbidden(path, "must not specify anything other than name and generateName, but metadata is implicitly specified"));
        }
    }

    /// <summary>The keywords a structural schema keeps; the others (<c>example</c>, <c>externalDocs</c>, …) are dropped from it.</summary>
    private static readonly HashSet<string> StructuralKeywords = new(StringComparer.Ordinal)
    {
        "description", "title", "nullable", "items", "properties", "additionalProperties", "format", "maximum", "exclusiveMaximum",
        "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf", "enum",
        "maxProperties", "minProperties", "required", "allOf", "oneOf", "anyOf", "not", "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys", "x-kubernetes-list-type",
        "x-kubernetes-map-type", "x-kubernetes-validations",
    };

    /// <summary>Whether a keyword's value differs from Go's zero value (null, false, empty string).</summary>
    private static bool IsSet(JsonNode? value) => value switch
    {
        null => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.False => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Length > 0,
        _ => true,
    };

    private static void ValueValidation(JsonObject v, bool skipAnyOf, bool skipFirstAllOfAnyOf, Level level, string path, List<FieldError> errors)
    {
        if (!skipAnyOf)
        {
            var anyOf = List(v, "anyOf");
            for (var i = 0; i < anyOf.Count; i++)
            {
                Nested(anyOf[i], false, false, level, Index(path, "anyOf", i), errors);
            }
        }

        var allOf = List(v, "allOf");
        for (var i = 0; i < allOf.Count; i++)
        {
            Nested(allOf[i], skipFirstAllOfAnyOf && i == 0, false, level, Index(path, "allOf", i), errors);
        }

        var oneOf = List(v, "oneOf");
        for (var i = 0; i < oneOf.Count; i++)
        {
            Nested(oneOf[i], false, false, level, Index(path, "oneOf", i), errors);
        }

        if (v["not"] is JsonObject not)
        {
            Nested(not, false, false, level, Child(path, "not"), errors);
        }

        var pattern = Text(v, "pattern");
        if (pattern.Length > 0 && GoRegex.TryCompile(pattern, out var problem) is null)
        {
            errors.Add(FieldError.Invalid(Child(path, "pattern"), pattern, "must be a valid regular expression, but isn't: " + problem));
        }
    }

    private static void Nested(JsonObject v, bool skipAnyOf, bool skipAllOfAnyOf, Level level, string path, List<FieldError> errors)
    {
        ValueValidation(v, skipAnyOf, skipAllOfAnyOf, level, path, errors);
        if (v["items"] is JsonObject items)
        {
            Nested(items, false, false, level, Child(path, "items"), errors);
        }

        foreach (var (name, property) in Map(v, "properties"))
        {
            Nested(property, false, false, Level.Field, Key(path, "properties", name), errors);
        }

        void Forbid(string keyword, bool present, string detail)
        {
            if (present)
            {
                errors.Add(FieldError.Forbidden(Child(path, keyword), detail));
            }
        }

        Forbid("type", Text(v, "type").Length > 0, "must be empty to be structural");
        Forbid("additionalProperties", Has(v, "additionalProperties"), "must be undefined to be structural");
        Forbid("default", Has(v, "default"), "must be undefined to be structural");
        Forbid("title", Text(v, "title").Length > 0, "must be empty to be structural");
        Forbid("description", Text(v, "description").Length > 0, "must be empty to be structural");
        Forbid("nullable", Flag(v, "nullable"), "must be false to be structural");
        Forbid("x-kubernetes-preserve-unknown-fields", Flag(v, "x-kubernetes-preserve-unknown-fields"), "must be false to be structural");
        Forbid("x-kubernetes-embedded-resource", Flag(v, "x-kubernetes-embedded-resource"), "must be false to be structural");
        Forbid("x-kubernetes-int-or-string", Flag(v, "x-kubernetes-int-or-string"), "must be false to be structural");
        Forbid("x-kubernetes-list-map-keys", Strings(v, "x-kubernetes-list-map-keys").Count > 0, "must be empty to be structural");
        Forbid("x-kubernetes-list-type", Has(v, "x-kubernetes-list-type"), "must be undefined to be structural");
        Forbid("x-kubernetes-map-type", Has(v, "x-kubernetes-map-type"), "must be undefined to be structural");
        Forbid("x-kubernetes-validations", v["x-kubernetes-validations"] is JsonArray { Count: > 0 }, "must be empty to be structural");
        if (Property(v, "metadata") is not null)
        {
            errors.Add(FieldError.Forbidden(Key(path, "properties", "metadata"), "must not be specified in a nested context"));
        }
    }

    /// <summary>
    /// Checks that every field and item that the root's junctors (allOf, anyOf, oneOf, not) speak of is also
    /// specified in the structural part of the schema, as <c>validateStructuralCompleteness</c> does.
    /// </summary>
    private static void Completeness(JsonObject v, JsonObject? s, string sPath, string vPath, List<FieldError> errors)
    {
        if (s is null)
        {
            errors.Add(FieldError.Required(sPath, "because it is defined in " + vPath));
            return;
        }

        if (v["not"] is JsonObject not)
        {
            NestedCompleteness(not, s, sPath, Child(vPath, "not"), errors);
        }

        foreach (var junctor in new[] { "allOf", "anyOf", "oneOf" })
        {
            var branches = List(v, junctor);
            for (var i = 0; i < branches.Count; i++)
            {
                NestedCompleteness(branches[i], s, sPath, Index(vPath, junctor, i), errors);
            }
        }
    }

    private static void NestedCompleteness(JsonObject v, JsonObject? s, string sPath, string vPath, List<FieldError> errors)
    {
        if (s is null)
        {
            errors.Add(FieldError.Required(sPath, "because it is defined in " + vPath));
            return;
        }

        Completeness(v, s, sPath, vPath, errors);
        if (v["items"] is JsonObject items)
        {
            NestedCompleteness(items, s["items"] as JsonObject, Child(sPath, "items"), Child(vPath, "items"), errors);
        }

        foreach (var (name, property) in Map(v, "properties"))
        {
            if (Property(s, name) is { } structural)
            {
                NestedCompleteness(property, structural, Key(sPath, "properties", name), Key(vPath, "properties", name), errors);
            }
            else
            {
                errors.Add(FieldError.Required(Key(sPath, "properties", name), "because it is defined in " + Key(vPath, "properties", name)));
            }
        }
    }

    /// <summary>Whether the schema's <c>anyOf</c> is exactly <c>[{type: integer}, {type: string}]</c>, the int-or-string idiom.</summary>
    private static bool IsIntOrStringAnyOf(JsonObject s) =>
        List(s, "anyOf") is [{ Count: 1 } integer, { Count: 1 } text] && Text(integer, "type") == "integer" && Text(text, "type") == "string";
}
