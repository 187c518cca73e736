using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Schema;

namespace DeepSeekOperator.DevCluster.Tests.Schema;

/// <summary>Each schema keyword, checked on a field <c>spec.f</c>, with the message kube-apiserver gives.</summary>
public sealed class ValidationKeywordTests
{
    public static TheoryData<string, string, string[]> Cases() => new()
    {
        // type
        { "{type: integer}", "5", [] },
        { "{type: integer}", "\"5\"", ["spec.f: Invalid value: \"string\": spec.f in body must be of type integer: \"string\""] },
        { "{type: integer}", "1.5", ["spec.f: Invalid value: \"number\": spec.f in body must be of type integer: \"number\""] },
        { "{type: integer}", "2.0", [] },
        { "{type: number}", "2", [] },
        { "{type: string}", "true", ["spec.f: Invalid value: \"boolean\": spec.f in body must be of type string: \"boolean\""] },
        { "{type: object}", "[1]", ["spec.f: Invalid value: \"array\": spec.f in body must be of type object: \"array\""] },
        { "{type: array, items: {type: string}}", "{a: 1}", ["spec.f: Invalid value: \"object\": spec.f in body must be of type array: \"object\""] },
        { "{type: boolean}", "null", ["spec.f: Invalid value: \"null\": spec.f in body must be of type boolean: \"null\""] },
        { "{type: boolean, nullable: true}", "null", [] },
        { "{x-kubernetes-int-or-string: true}", "8", [] },
        { "{x-kubernetes-int-or-string: true}", "\"8Gi\"", [] },
        { "{x-kubernetes-int-or-string: true}", "true", ["spec.f: Invalid value: \"boolean\": spec.f in body must be of type integer,string: \"boolean\""] },
        { "{x-kubernetes-preserve-unknown-fields: true}", "{any: [thing]}", [] },
        // a type error stops the descent: the members of a string are not looked at
        { "{type: object, required: [a], properties: {a: {type: string}}}", "\"x\"", ["spec.f: Invalid value: \"string\": spec.f in body must be of type object: \"string\""] },
        // required
        { "{type: object, required: [a, b], properties: {a: {type: string}, b: {type: string}}}", "{a: x}", ["spec.f.b: Required value"] },
        // enum
        { "{type: string, enum: [a, b]}", "x", ["spec.f: Unsupported value: \"x\": supported values: \"a\", \"b\""] },
        { "{type: integer, enum: [1, 2]}", "3", ["spec.f: Unsupported value: 3: supported values: \"1\", \"2\""] },
        { "{type: integer, enum: [1, 2]}", "2", [] },
        { "{type: string, nullable: true, enum: [a]}", "null", ["spec.f: Unsupported value: \"null\": supported values: \"a\""] },
        // minimum, maximum, exclusive bounds
        { "{type: integer, maximum: 5}", "10", ["spec.f: Invalid value: 10: spec.f in body should be less than or equal to 5"] },
        { "{type: integer, maximum: 5, exclusiveMaximum: true}", "5", ["spec.f: Invalid value: 5: spec.f in body should be less than 5"] },
        { "{type: integer, minimum: 1}", "0", ["spec.f: Invalid value: 0: spec.f in body should be greater than or equal to 1"] },
        { "{type: integer, minimum: 0, exclusiveMinimum: true}", "0", ["spec.f: Invalid value: 0: spec.f in body should be greater than 0"] },
        { "{type: number, minimum: 1}", "0.9", ["spec.f: Invalid value: 0.9: spec.f in body should be greater than or equal to 1"] },
        { "{type: number, maximum: 1.5}", "1.75", ["spec.f: Invalid value: 1.75: spec.f in body should be less than or equal to 1.5"] },
        { "{type: number, maximum: 1e21}", "2e21", ["spec.f: Invalid value: 2e+21: spec.f in body should be less than or equal to 1e+21"] },
        // multipleOf
        { "{type: integer, multipleOf: 4}", "10", ["spec.f: Invalid value: 10: spec.f in body should be a multiple of 4"] },
        { "{type: integer, multipleOf: 4}", "12", [] },
        { "{type: number, multipleOf: 0.1}", "0.3", [] },
        { "{type: number, multipleOf: 0.5}", "0.7", ["spec.f: Invalid value: 0.7: spec.f in body should be a multiple of 0.5"] },
        // strings: lengths count characters, not bytes; the message says bytes, as Kubernetes' does
        { "{type: string, maxLength: 3}", "abcd", ["spec.f: Too long: may not be more than 3 bytes"] },
        { "{type: string, maxLength: 3}", "\"äöü\"", [] },
        { "{type: string, maxLength: 1}", "ab", ["spec.f: Too long: may not be more than 1 byte"] },
        { "{type: string, minLength: 2}", "a", ["spec.f: Invalid value: \"a\": spec.f in body should be at least 2 chars long"] },
        { "{type: string, pattern: '^[a-z]+$'}", "UP", ["spec.f: Invalid value: \"UP\": spec.f in body should match '^[a-z]+$'"] },
        { "{type: string, pattern: '^[a-z]+$'}", "\"abc\\n\"", ["spec.f: Invalid value: \"abc\\n\": spec.f in body should match '^[a-z]+$'"] },
        { "{type: string, pattern: '^\\d+$'}", "\"١٢\"", ["spec.f: Invalid value: \"١٢\": spec.f in body should match '^\\d+$'"] },
        { "{type: string, pattern: '[[:upper:]]'}", "aBc", [] },
        // formats Kubernetes checks; unknown ones are ignored
        { "{type: string, format: date-time}", "2024-02-30T10:00:00Z", ["spec.f: Invalid value: \"2024-02-30T10:00:00Z\": spec.f in body must be of type date-time: \"2024-02-30T10:00:00Z\""] },
        { "{type: string, format: date-time}", "2024-02-29T10:00:00.5+02:00", [] },
        { "{type: string, format: uuid}", "not-a-uuid", ["spec.f: Invalid value: \"not-a-uuid\": spec.f in body must be of type uuid: \"not-a-uuid\""] },
        { "{type: string, format: uuid}", "123e4567-e89b-12d3-a456-426614174000", [] },
        { "{type: string, format: byte}", "aGVsbG8=", [] },
        { "{type: string, format: byte}", "not base64!", ["spec.f: Invalid value: \"not base64!\": spec.f in body must be of type byte: \"not base64!\""] },
        { "{type: string, format: ipv4}", "10.0.0.256", ["spec.f: Invalid value: \"10.0.0.256\": spec.f in body must be of type ipv4: \"10.0.0.256\""] },
        { "{type: string, format: duration}", "1h30m", [] },
        { "{type: string, format: no-such-format}", "anything", [] },
        { "{type: integer, format: int32}", "4294967296", [] },
        // arrays
        { "{type: array, maxItems: 2, items: {type: integer}}", "[1, 2, 3]", ["spec.f: Too many: 3: must have at most 2 items"] },
        { "{type: array, minItems: 2, items: {type: integer}}", "[1]", ["spec.f: Invalid value: 1: spec.f in body should have at least 2 items"] },
        { "{type: array, items: {type: integer, minimum: 0}}", "[1, -1]", ["spec.f[1]: Invalid value: -1: spec.f[1] in body should be greater than or equal to 0"] },
        // objects
        { "{type: object, maxProperties: 1, additionalProperties: {type: string}}", "{a: x, b: y}", ["spec.f: Too many: 2: must have at most 1 item"] },
        { "{type: object, minProperties: 2, additionalProperties: {type: string}}", "{a: x}", ["spec.f: Invalid value: 1: spec.f in body should have at least 2 properties"] },
        { "{type: object, additionalProperties: {type: string, maxLength: 2}}", "{key: long}", ["spec.f.key: Too long: may not be more than 2 bytes"] },
        // junctors: value validations only, their failure reported at the root as kube-apiserver does
        { "{type: string, anyOf: [{pattern: '^a'}, {pattern: '^b'}]}", "c", ["<nil>: Invalid value: \"\": \"spec.f\" must validate at least one schema (anyOf)", "spec.f: Invalid value: \"c\": spec.f in body should match '^a'"] },
        { "{type: string, anyOf: [{pattern: '^a'}, {pattern: '^b'}]}", "b", [] },
        { "{type: string, oneOf: [{pattern: '^a'}, {pattern: 'z$'}]}", "az", ["<nil>: Invalid value: \"\": \"spec.f\" must validate one and only one schema (oneOf). Found 2 valid alternatives"] },
        { "{type: string, allOf: [{minLength: 2}, {maxLength: 3}]}", "a", ["spec.f: Invalid value: \"a\": spec.f in body should be at least 2 chars long", "<nil>: Invalid value: \"\": \"spec.f\" must validate all the schemas (allOf)"] },
        { "{type: string, not: {enum: [forbidden]}}", "forbidden", ["<nil>: Invalid value: \"\": \"spec.f\" must not validate the schema (not)"] },
        { "{x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}], pattern: '^[0-9]+(Gi|Mi)$'}", "\"8 GB\"", ["spec.f: Invalid value: \"8 GB\": spec.f in body should match '^[0-9]+(Gi|Mi)$'"] },
        { "{x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}], pattern: '^[0-9]+(Gi|Mi)$'}", "8", [] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validate_FieldWithKeyword_ReportsWhatKubernetesReports(string fieldSchema, string value, string[] expected)
    {
        var schema = YamlJson.Object($"{{type: object, properties: {{spec: {{type: object, properties: {{f: {fieldSchema}}}}}}}}}");
        var obj = YamlJson.Object($"{{metadata: {{name: x}}, spec: {{f: {value}}}}}");

        var errors = SchemaValidation.Validate(obj, null, schema, new RecordingRules());

        Assert.Equal(expected, errors.Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("Invalid_Name", "metadata.name: Invalid value: \"Invalid_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]
    [InlineData("", "metadata.name: Required value: name or generateName is required")]
    public void Validate_BadName_IsRejectedAsADns1123Subdomain(string name, string expected)
    {
        var schema = YamlJson.Object("{type: object}");
        var obj = new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } };

        var errors = SchemaValidation.Validate(obj, null, schema, new RecordingRules());

        Assert.Equal([expected], errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Validate_NameLongerThan253_IsTooLongForKubernetes()
    {
        var name = new string('a', 254);
        var obj = new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } };

        var errors = SchemaValidation.Validate(obj, null, YamlJson.Object("{type: object}"), new RecordingRules());

        Assert.Equal([$"metadata.name: Invalid value: \"{name}\": must be no more than 253 characters"], errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Validate_CrdRestrictsTheName_ReportsTheSchemaRule()
    {
        var schema = YamlJson.Object("{type: object, properties: {metadata: {type: object, properties: {name: {type: string, maxLength: 5}}}}}");
        var obj = YamlJson.Object("{metadata: {name: toolong}}");

        var errors = SchemaValidation.Validate(obj, null, schema, new RecordingRules());

        Assert.Equal(["metadata.name: Too long: may not be more than 5 bytes"], errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Validate_EmbeddedResourceWithoutKind_RequiresIt()
    {
        var schema = YamlJson.Object("{type: object, properties: {spec: {type: object, properties: {template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}}}}}");
        var obj = YamlJson.Object("{metadata: {name: x}, spec: {template: {apiVersion: v1, metadata: {name: a/b}}}}");

        var errors = SchemaValidation.Validate(obj, null, schema, new RecordingRules());

        Assert.Equal(
            ["spec.template.kind: Required value: must not be empty", "spec.template.metadata.name: Invalid value: \"a/b\": may not contain '/'"],
            errors.Select(e => e.ToString()));
    }
}
