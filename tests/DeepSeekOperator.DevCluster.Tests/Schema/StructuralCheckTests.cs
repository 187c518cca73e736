using DeepSeekOperator.DevCluster.Internal.Schema;

namespace DeepSeekOperator.DevCluster.Tests.Schema;

/// <summary>The checks of a CRD schema at CRD creation, with kube-apiserver's paths and messages.</summary>
public sealed class StructuralCheckTests
{
    private const string P = "spec.versions[0].schema.openAPIV3Schema";

    public static TheoryData<string, string[]> Cases() => new()
    {
        { "{type: object, properties: {spec: {type: object, properties: {a: {type: string}}}}}", [] },
        { "{type: object, properties: {spec: {properties: {a: {type: string}}}}}", [$"{P}.properties[spec].type: Required value: must not be empty for specified object fields"] },
        { "{properties: {a: {type: string}}}", [$"{P}.type: Required value: must not be empty at the root"] },
        { "{type: object, properties: {a: {type: array, items: {}}}}", [$"{P}.properties[a].items.type: Required value: must not be empty for specified array items"] },
        { "{type: object, properties: {a: {type: array}}}", [$"{P}.properties[a].items: Required value: must be specified"] },
        { "{type: string}", [$"{P}.type: Invalid value: \"string\": must be object at the root"] },
        { "{type: object, additionalProperties: {type: string}}", [$"{P}.additionalProperties: Forbidden: must not be used at the root"] },
        { "{type: object, properties: {a: {type: object, properties: {b: {type: string}}, additionalProperties: {type: string}}}}", [$"{P}.properties[a].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"] },
        { "{type: object, properties: {metadata: {type: object, properties: {labels: {type: object}}}}}", [$"{P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"] },
        { "{type: object, properties: {metadata: {type: object, properties: {name: {type: string, maxLength: 20}}}}}", [] },
        { "{type: object, properties: {kind: {type: integer}}}", [$"{P}.properties[kind].type: Invalid value: \"integer\": must be string"] },
        { "{type: object, properties: {a: {type: string, x-kubernetes-int-or-string: true, x-kubernetes-preserve-unknown-fields: true}}}", [$"{P}.properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true"] },
        { "{type: object, properties: {a: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}}}", [] },
        { "{type: object, properties: {a: {type: string, anyOf: [{type: string, description: d}]}}}", [$"{P}.properties[a].anyOf[0].description: Forbidden: must be empty to be structural", $"{P}.properties[a].anyOf[0].type: Forbidden: must be empty to be structural"] },
        { "{type: object, properties: {a: {type: string}}, anyOf: [{properties: {b: {minLength: 1}}}]}", [$"{P}.properties[b]: Required value: because it is defined in {P}.anyOf[0].properties[b]"] },
        { "{type: object, properties: {a: {type: string, pattern: '(a'}}}", [$"{P}.properties[a].pattern: Invalid value: \"(a\": must be a valid regular expression, but isn't: error parsing regexp: Invalid pattern '(a' at offset 2. Not enough )'s."] },
        { "{type: object, properties: {a: {type: string, pattern: '(?=a)'}}}", [$"{P}.properties[a].pattern: Invalid value: \"(?=a)\": must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax: `(?=`"] },
        { "{type: object, properties: {a: {type: object, x-kubernetes-embedded-resource: true}}}", [$"{P}.properties[a].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"] },
        { "{type: object, nullable: true}", [$"{P}.nullable: Forbidden: nullable cannot be true at the root"] },
        { "{type: object, properties: {a: {type: array, uniqueItems: true, items: {type: string}}}}", [$"{P}.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"] },
        { "{type: object, properties: {a: {type: string, $ref: '#/definitions/x'}}}", [$"{P}.properties[a].$ref: Forbidden: $ref is not supported"] },
        { "{type: object, properties: {a: {type: date}}}", [$"{P}.properties[a].type: Unsupported value: \"date\": supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\""] },
        { "{type: object, properties: {a: {type: string, x-kubernetes-preserve-unknown-fields: false}}}", [$"{P}.properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined"] },
        { "{type: object, properties: {metadata: {type: object, properties: {name: {type: string, default: x}}}}}", [$"{P}.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata"] },
        // list types
        { "{type: object, properties: {a: {type: array, x-kubernetes-list-type: map, items: {type: object, properties: {k: {type: string}}}}}}", [$"{P}.properties[a].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map"] },
        { "{type: object, properties: {a: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], items: {type: object, properties: {k: {type: string}}}}}}", [$"{P}.properties[a].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"] },
        { "{type: object, properties: {a: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], items: {type: object, required: [k], properties: {k: {type: string}}}}}}", [] },
        { "{type: object, properties: {a: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [x], items: {type: object, properties: {k: {type: string}}}}}}", [$"{P}.properties[a].x-kubernetes-list-map-keys: Invalid value: []string{{\"x\"}}: entries must all be names of item properties"] },
        { "{type: object, properties: {a: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], items: {type: object, required: [k], properties: {k: {type: object}}}}}}", [$"{P}.properties[a].items.properties[k].type: Invalid value: \"object\": must be a scalar type if parent array's x-kubernetes-list-type is map"] },
        { "{type: object, properties: {a: {type: array, x-kubernetes-list-type: bag, items: {type: string}}}}", [$"{P}.properties[a].x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", \"map\""] },
        { "{type: object, properties: {a: {type: string, x-kubernetes-list-type: set}}}", [$"{P}.properties[a].type: Invalid value: \"string\": must be array if x-kubernetes-list-type is specified"] },
        { "{type: object, properties: {a: {type: array, x-kubernetes-list-type: set, items: {type: object, properties: {b: {type: string}}}}}}", [$"{P}.properties[a].items.x-kubernetes-map-type: Invalid value: \"null\": must be atomic as item of a list with x-kubernetes-list-type=set"] },
        // defaults: kube-openapi names the default itself "", hence the message that starts with a space
        { "{type: object, properties: {a: {type: integer, minimum: 1, default: 0}}}", [$"{P}.properties[a].default: Invalid value: 0:  in body should be greater than or equal to 1"] },
        { "{type: object, properties: {a: {type: object, properties: {b: {type: string}}, default: {b: x, c: y}}}}", [$"{P}.properties[a].default: Invalid value: map[string]interface {{}}{{\"b\":\"x\", \"c\":\"y\"}}: must not have unknown fields"] },
        { "{type: object, properties: {a: {type: object, properties: {b: {type: string, enum: [x]}}, default: {b: z}}}}", [$"{P}.properties[a].default.b: Unsupported value: \"z\": supported values: \"x\""] },
        { "{type: object, properties: {a: {type: string, default: x}}}", [] },
        // validation rules entries
        { "{type: object, x-kubernetes-validations: [{rule: '  '}]}", [$"{P}.x-kubernetes-validations[0].rule: Required value: rule is not specified"] },
        { "{type: object, x-kubernetes-validations: [{rule: 'self.a', message: \"a\\nb\"}]}", [$"{P}.x-kubernetes-validations[0].message: Invalid value: \"a\\nb\": message must not contain line breaks"] },
        { "{type: object, x-kubernetes-validations: [{rule: 'true', reason: Bad}]}", [$"{P}.x-kubernetes-validations[0].reason: Unsupported value: \"Bad\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\""] },
        { "{type: object, properties: {a: {type: string}}, x-kubernetes-validations: [{rule: 'true', fieldPath: .b}]}", [$"{P}.x-kubernetes-validations[0].fieldPath: Invalid value: \".b\": fieldPath must be a valid path"] },
        { "{type: object, properties: {a: {type: string}}, x-kubernetes-validations: [{rule: 'true', fieldPath: .a}]}", [] },
        { "{type: object, properties: {a: {type: array, items: {type: string, x-kubernetes-validations: [{rule: 'self == oldSelf'}]}}}}", [$"{P}.properties[a].items.x-kubernetes-validations[0].rule: Invalid value: \"self == oldSelf\": oldSelf cannot be used on the uncorrelatable portion of the schema within {P}.properties[a]"] },
        { "{type: object, properties: {a: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], items: {type: object, required: [k], properties: {k: {type: string}}, x-kubernetes-validations: [{rule: 'self == oldSelf'}]}}}}", [] },
        { "{type: object, x-kubernetes-validations: [{rule: 'true', optionalOldSelf: true}]}", [$"{P}.x-kubernetes-validations[0].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule"] },
        // keywords of the wrong JSON type
        { "{type: object, properties: {a: {type: string, maxLength: many}}}", [$"{P}.properties[a].maxLength: Invalid value: \"string\": must be of type integer"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void CheckStructural_Schema_ReportsWhatKubernetesReports(string schema, string[] expected)
    {
        var errors = StructuralSchema.CheckStructural(YamlJson.Object(schema), P, new RecordingRules());

        Assert.Equal(expected, errors.Select(e => e.ToString()));
    }

    [Fact]
    public void CheckStructural_StructuralErrors_AreSortedAndKeepDefaultsFromBeingChecked()
    {
        var schema = YamlJson.Object("{type: object, properties: {z: {}, b: {}, c: {type: integer, minimum: 1, default: 0}}}");

        var errors = StructuralSchema.CheckStructural(schema, P, new RecordingRules());

        Assert.Equal(
            [
                $"{P}.properties[b].type: Required value: must not be empty for specified object fields",
                $"{P}.properties[z].type: Required value: must not be empty for specified object fields",
            ],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void CheckStructural_RulesOnAnUnsoundSubtree_AreNotCompiled()
    {
        var schema = YamlJson.Object("""
            type: object
            properties:
              good: {type: string, x-kubernetes-validations: [{rule: 'self != ""'}]}
              bad:
                type: object
                x-kubernetes-validations: [{rule: 'true'}]
                properties: {inner: {type: array, uniqueItems: true, items: {type: string}}}
            """);
        var rules = new RecordingRules();

        StructuralSchema.CheckStructural(schema, P, rules);

        Assert.Equal([$"{P}.properties[good]"], rules.Compiled);
    }

    [Fact]
    public void CheckStructural_RulesOfADefault_AreEvaluatedOnTheDefault()
    {
        var schema = YamlJson.Object("{type: object, properties: {a: {type: string, default: x, x-kubernetes-validations: [{rule: 'self != \"x\"'}]}}}");
        var rules = new RecordingRules();
        rules.Failing.Add($"{P}.properties[a].default");

        var errors = StructuralSchema.CheckStructural(schema, P, rules);

        Assert.Equal([$"{P}.properties[a].default: Invalid value: \"object\": failed"], errors.Select(e => e.ToString()));
        Assert.Empty(rules.Compiled);
    }
}
