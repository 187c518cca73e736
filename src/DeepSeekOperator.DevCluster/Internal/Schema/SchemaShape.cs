using System.Text.Json;
using System.Text.Json.Nodes;
using static DeepSeekOperator.DevCluster.Internal.Schema.SchemaJson;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Checks that every keyword of a schema holds the JSON type <c>JSONSchemaProps</c> declares for it (kube-apiserver
/// would fail to decode the CRD otherwise), so that the other checks can read the schema without doubt. A keyword
/// set to null counts as absent, as Go's decoding leaves it; unknown keywords are ignored, as Go's decoding drops them.
/// </summary>
internal static class SchemaShape
{
    private enum Expect
    {
        String,
        Number,
        Integer,
        Boolean,
        Strings,
        Array,
        Schema,
        Schemas,
        SchemaMap,
        SchemaOrSchemas,
        SchemaOrBoolean,
        SchemaOrStrings,
        Object,
        Rules,
        Any,
    }

    private static readonly Dictionary<string, Expect> Keywords = new(StringComparer.Ordinal)
    {
        ["id"] = Expect.String,
        ["$schema"] = Expect.String,
        ["$ref"] = Expect.String,
        ["description"] = Expect.String,
        ["type"] = Expect.String,
        ["format"] = Expect.String,
        ["title"] = Expect.String,
        ["pattern"] = Expect.String,
        ["x-kubernetes-list-type"] = Expect.String,
        ["x-kubernetes-map-type"] = Expect.String,
        ["maximum"] = Expect.Number,
        ["minimum"] = Expect.Number,
        ["multipleOf"] = Expect.Number,
        ["maxLength"] = Expect.Integer,
        ["minLength"] = Expect.Integer,
        ["maxItems"] = Expect.Integer,
        ["minItems"] = Expect.Integer,
        ["maxProperties"] = Expect.Integer,
        ["minProperties"] = Expect.Integer,
        ["exclusiveMaximum"] = Expect.Boolean,
        ["exclusiveMinimum"] = Expect.Boolean,
        ["uniqueItems"] = Expect.Boolean,
        ["nullable"] = Expect.Boolean,
        ["x-kubernetes-preserve-unknown-fields"] = Expect.Boolean,
        ["x-kubernetes-embedded-resource"] = Expect.Boolean,
        ["x-kubernetes-int-or-string"] = Expect.Boolean,
        ["required"] = Expect.Strings,
        ["x-kubernetes-list-map-keys"] = Expect.Strings,
        ["enum"] = Expect.Array,
        ["not"] = Expect.Schema,
        ["allOf"] = Expect.Schemas,
        ["anyOf"] = Expect.Schemas,
        ["oneOf"] = Expect.Schemas,
        ["properties"] = Expect.SchemaMap,
        ["patternProperties"] = Expect.SchemaMap,
        ["definitions"] = Expect.SchemaMap,
        ["dependencies"] = Expect.SchemaOrStrings,
        ["items"] = Expect.SchemaOrSchemas,
        ["additionalProperties"] = Expect.SchemaOrBoolean,
        ["additionalItems"] = Expect.SchemaOrBoolean,
        ["externalDocs"] = Expect.Object,
        ["x-kubernetes-validations"] = Expect.Rules,
        ["default"] = Expect.Any,
        ["example"] = Expect.Any,
    };

    private static readonly Dictionary<string, JsonValueKind> RuleFields = new(StringComparer.Ordinal)
    {
        ["rule"] = JsonValueKind.String,
        ["message"] = JsonValueKind.String,
        ["messageExpression"] = JsonValueKind.String,
        ["reason"] = JsonValueKind.String,
        ["fieldPath"] = JsonValueKind.String,
        ["optionalOldSelf"] = JsonValueKind.True,
    };

    /// <summary>Appends an error for every keyword of the wrong type in the schema and its sub-schemas.</summary>
    public static void Check(JsonObject schema, string path, List<FieldError> errors)
    {
        foreach (var (keyword, value) in schema)
        {
            if (value is null || !Keywords.TryGetValue(keyword, out var expect))
            {
                continue;
            }

            var at = Child(path, keyword);
            switch (expect)
            {
                case Expect.String:
                    Require(value, JsonKind.String, "string", at, errors);
                    break;
                case Expect.Number:
                    Require(value, JsonKind.Number, "number", at, errors);
                    break;
                case Expect.Integer:
                    Require(value, JsonKind.Integer, "integer", at, errors);
                    break;
                case Expect.Boolean:
                    Require(value, JsonKind.Boolean, "boolean", at, errors);
                    break;
                case Expect.Strings:
                    if (Require(value, JsonKind.Array, "array", at, errors))
                    {
                        var list = value.AsArray();
                        for (var i = 0; i < list.Count; i++)
                        {
                            Require(list[i], JsonKind.String, "string", Index(path, keyword, i), errors);
                        }
                    }

                    break;
                case Expect.Array:
                    Require(value, JsonKind.Array, "array", at, errors);
                    break;
                case Expect.Schema:
                    if (Require(value, JsonKind.Object, "object", at, errors))
                    {
                        Check(value.AsObject(), at, errors);
                    }

                    break;
                case Expect.Schemas:
                    if (Require(value, JsonKind.Array, "array", at, errors))
                    {
                        Schemas(value.AsArray(), path, keyword, errors);
                    }

                    break;
                case Expect.SchemaMap:
                    if (Require(value, JsonKind.Object, "object", at, errors))
                    {
                        foreach (var (name, member) in value.AsObject())
                        {
                            if (Require(member, JsonKind.Object, "object", Key(path, keyword, name), errors))
                            {
                                Check(member!.AsObject(), Key(path, keyword, name), errors);
                            }
                        }
                    }

                    break;
                case Expect.SchemaOrSchemas:
                    if (value is JsonArray schemas)
                    {
                        Schemas(schemas, path, keyword, errors);
                    }
                    else if (Require(value, JsonKind.Object, "object", at, errors))
                    {
                        Check(value.AsObject(), at, errors);
                    }

                    break;
                case Expect.SchemaOrBoolean:
                    if (value is JsonObject additional)
                    {
                        Check(additional, at, errors);
                    }
                    else
                    {
                        Require(value, JsonKind.Boolean, "boolean", at, errors);
                    }

                    break;
                case Expect.SchemaOrStrings:
                    if (Require(value, JsonKind.Object, "object", at, errors))
                    {
                        foreach (var (name, member) in value.AsObject())
                        {
                            if (member is JsonObject dependency)
                            {
                                Check(dependency, Key(path, keyword, name), errors);
                            }
                            else if (Require(member, JsonKind.Array, "array", Key(path, keyword, name), errors))
                            {
                                foreach (var item in member!.AsArray())
                                {
                                    Require(item, JsonKind.String, "string", Key(path, keyword, name), errors);
                                }
                            }
                        }
                    }

                    break;
                case Expect.Object:
                    Require(value, JsonKind.Object, "object", at, errors);
                    break;
                case Expect.Rules:
                    if (Require(value, JsonKind.Array, "array", at, errors))
                    {
                        Rules(value.AsArray(), path, errors);
                    }

                    break;
            }
        }
    }

    private static void Schemas(JsonArray schemas, string path, string keyword, List<FieldError> errors)
    {
        for (var i = 0; i < schemas.Count; i++)
        {
            if (Require(schemas[i], JsonKind.Object, "object", Index(path, keyword, i), errors))
            {
                Check(schemas[i]!.AsObject(), Index(path, keyword, i), errors);
            }
        }
    }

    private static void Rules(JsonArray rules, string path, List<FieldError> errors)
    {
        for (var i = 0; i < rules.Count; i++)
        {
            var at = Index(path, "x-kubernetes-validations", i);
            if (!Require(rules[i], JsonKind.Object, "object", at, errors))
            {
                continue;
            }

            foreach (var (field, value) in rules[i]!.AsObject())
            {
                if (value is not null && RuleFields.TryGetValue(field, out var kind))
                {
                    var expected = kind == JsonValueKind.True ? JsonKind.Boolean : JsonKind.String;
                    Require(value, expected, JsonValues.TypeName(expected), Child(at, field), errors);
                }
            }
        }
    }

    /// <summary>Whether a value has the expected kind (a number may be an integer; null counts as absent); reports it when not.</summary>
    private static bool Require(JsonNode? value, JsonKind expected, string typeName, string path, List<FieldError> errors)
    {
        var kind = JsonValues.KindOf(value);
        if (kind == expected || kind == JsonKind.Null || (expected == JsonKind.Number && kind == JsonKind.Integer))
        {
            return kind != JsonKind.Null;
        }

        errors.Add(new FieldError(FieldErrorType.TypeInvalid, path, GoText.Quote(JsonValues.TypeName(kind)), "must be of type " + typeName));
        return false;
    }
}
