using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Schema;

namespace DeepSeekOperator.DevCluster.Tests.Schema;

/// <summary>List sets and maps, rule evaluation with oldSelf correlation, and ratcheting on update.</summary>
public sealed class ListAndRuleTests
{
    private static readonly JsonObject Schema = YamlJson.Object("""
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations: [{rule: 'true'}]
            properties:
              tags: {type: array, x-kubernetes-list-type: set, items: {type: string, x-kubernetes-validations: [{rule: 'true'}]}}
              atomic: {type: array, items: {type: string, x-kubernetes-validations: [{rule: 'true'}]}}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  x-kubernetes-validations: [{rule: 'self == oldSelf'}]
                  properties: {name: {type: string}, port: {type: integer, maximum: 100}}
              labels: {type: object, additionalProperties: {type: string, x-kubernetes-validations: [{rule: 'true'}]}}
              frozen: {type: object, x-kubernetes-map-type: atomic, properties: {a: {type: string, x-kubernetes-validations: [{rule: 'true'}]}}}
        """);

    [Fact]
    public void Validate_DuplicatesInSetsAndMaps_AreReportedOnceAtTheSecondAppearance()
    {
        var obj = YamlJson.Read("""
            metadata: {name: x}
            spec:
              tags: [a, b, a, a]
              ports: [{name: http, port: 80}, {name: dns, port: 53}, {name: http, port: 81}]
            """);

        var errors = SchemaValidation.Validate(obj, null, Schema, new RecordingRules());

        Assert.Equal(
            ["spec.tags[2]: Duplicate value: \"a\"", "spec.ports[2]: Duplicate value: map[string]interface {}{\"name\":\"http\"}"],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Validate_Create_EvaluatesEveryRuleWithoutOldSelf()
    {
        var obj = YamlJson.Read("{metadata: {name: x}, spec: {tags: [a], labels: {app: web}, ports: [{name: http}]}}");
        var rules = new RecordingRules();

        SchemaValidation.Validate(obj, null, Schema, rules);

        Assert.Equal(["spec", "spec.tags[0]", "spec.labels[app]", "spec.ports[0]"], rules.Evaluated.Select(e => e.Path));
        Assert.All(rules.Evaluated, e => Assert.False(e.HasOld));
    }

    [Fact]
    public void Validate_Update_CorrelatesMembersMapKeysAndMapListItemsButNotSetsAtomicListsOrAtomicMaps()
    {
        var old = YamlJson.Read("{metadata: {name: x}, spec: {tags: [a], atomic: [a], labels: {app: web}, ports: [{name: dns, port: 53}, {name: http, port: 80}], frozen: {a: x}}}");
        var obj = YamlJson.Read("{metadata: {name: x}, spec: {tags: [a], atomic: [a], labels: {app: api}, ports: [{name: http, port: 8}], frozen: {a: y}}}");
        var rules = new RecordingRules();

        SchemaValidation.Validate(obj, old, Schema, rules);

        var evaluated = rules.Evaluated.ToDictionary(e => e.Path);
        Assert.True(evaluated["spec"].HasOld);
        Assert.False(evaluated["spec.tags[0]"].HasOld);
        Assert.False(evaluated["spec.atomic[0]"].HasOld);
        Assert.Equal("web", (string?)evaluated["spec.labels[app]"].Old);
        Assert.Equal(80, (long?)evaluated["spec.ports[0]"].Old!["port"]);
        Assert.False(evaluated["spec.frozen.a"].HasOld);
    }

    [Fact]
    public void Validate_Update_UnchangedInvalidValuesAreRatcheted_ChangedOnesAreNot()
    {
        var old = YamlJson.Read("{metadata: {name: x}, spec: {ports: [{name: a, port: 500}, {name: b, port: 600}]}}");
        var obj = YamlJson.Read("{metadata: {name: x}, spec: {ports: [{name: a, port: 500}, {name: b, port: 601}]}}");

        var errors = SchemaValidation.Validate(obj, old, Schema, new RecordingRules());

        Assert.Equal(["spec.ports[1].port: Invalid value: 601: spec.ports[1].port in body should be less than or equal to 100"], errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Validate_Update_RuleErrorsOnUnchangedValues_AreDroppedUnlessTheRuleUsesOldSelf()
    {
        var old = YamlJson.Read("{metadata: {name: x}, spec: {labels: {app: web}, ports: [{name: http, port: 80}]}}");
        var obj = YamlJson.Read("{metadata: {name: x}, spec: {labels: {app: web}, ports: [{name: http, port: 80}], tags: [new]}}");
        var rules = new RecordingRules();
        rules.Failing.UnionWith(["spec.labels[app]", "spec.ports[0]", "spec.tags[0]"]);

        var errors = SchemaValidation.Validate(obj, old, Schema, rules);

        Assert.Equal(["spec.ports[0]: Invalid value: \"object\": failed", "spec.tags[0]: Invalid value: \"object\": failed"], errors.Select(e => e.ToString()));
    }
}
