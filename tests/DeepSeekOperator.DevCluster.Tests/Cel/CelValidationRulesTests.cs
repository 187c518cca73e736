using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;
using DeepSeekOperator.DevCluster.Internal.Cel;

namespace DeepSeekOperator.DevCluster.Tests.Cel;

public sealed class CelValidationRulesTests
{
    private readonly CelValidationRules _rules = new();

    private static JsonObject Schema(string json) => JsonNode.Parse(json)!.AsObject();

    private IReadOnlyList<string> Evaluate(JsonObject schema, string json, string path, string? old = null) =>
        [.. _rules.Evaluate(schema, JsonNode.Parse(json), old is null ? null : JsonNode.Parse(old), old is not null, path).Select(e => e.ToString())];

    [Fact]
    public void EveryRuleOfTheCrd_Compiles()
    {
        var errors = new List<FieldError>();
        var count = 0;
        void Walk(JsonObject node, string path)
        {
            if (node["x-kubernetes-validations"] is JsonArray rules)
            {
                count += rules.Count;
                errors.AddRange(_rules.Compile(node, path));
            }

            foreach (var (name, child) in node["properties"] as JsonObject ?? [])
            {
                Walk((JsonObject)child!, $"{path}.properties[{name}]");
            }

            if (node["items"] is JsonObject items)
            {
                Walk(items, path + ".items");
            }
        }

        Walk(CrdYaml.Schema, "spec.versions[0].schema.openAPIV3Schema");

        Assert.Empty(errors);
        Assert.True(count >= 7, $"only {count} rules found in the CRD");
    }

    [Fact]
    public void ModelSource_ExactlyOneOf_ReportsTheMessageWithTheTypeName()
    {
        var source = CrdYaml.Node("spec.model.source");

        Assert.Empty(Evaluate(source, """{"pvc": {"claimName": "weights"}}""", "spec.model.source"));
        Assert.Empty(Evaluate(source, """{"synthetic": {"preset": "tiny"}}""", "spec.model.source"));
        Assert.Equal(
            ["spec.model.source: Invalid value: \"object\": exactly one of pvc, hostPath, image or synthetic must be set"],
            Evaluate(source, """{"pvc": {"claimName": "weights"}, "hostPath": {"path": "/models"}}""", "spec.model.source"));
        Assert.Equal(
            ["spec.model.source: Invalid value: \"object\": exactly one of pvc, hostPath, image or synthetic must be set"],
            Evaluate(source, "{}", "spec.model.source"));
    }

    [Theory]
    [InlineData("""{"claimName": "w"}""", null)]
    [InlineData("""{"claimName": "w", "subPath": "models/dsv3"}""", null)]
    [InlineData("""{"claimName": "w", "subPath": "models/..x/dsv3"}""", null)]
    [InlineData("""{"claimName": "w", "subPath": "models/../etc"}""", "spec.model.source.pvc.subPath: Invalid value: \"object\": subPath must not contain a '..' segment")]
    [InlineData("""{"claimName": "w", "subPath": ".."}""", "spec.model.source.pvc.subPath: Invalid value: \"object\": subPath must not contain a '..' segment")]
    public void PvcSubPath_RejectsDotDotSegments_AtTheFieldPath(string pvc, string? expected)
    {
        var errors = Evaluate(CrdYaml.Node("spec.model.source.pvc"), pvc, "spec.model.source.pvc");

        Assert.Equal(expected is null ? [] : [expected], errors);
    }

    [Fact]
    public void HostPath_RejectsDotDotSegments()
    {
        var hostPath = CrdYaml.Node("spec.model.source.hostPath");

        Assert.Empty(Evaluate(hostPath, """{"path": "/models/dsv3"}""", "spec.model.source.hostPath"));
        Assert.Equal(
            ["spec.model.source.hostPath.path: Invalid value: \"object\": path must not contain a '..' segment"],
            Evaluate(hostPath, """{"path": "/models/../../etc"}""", "spec.model.source.hostPath"));
    }

    [Theory]
    [InlineData("spec.autoscaling.interval", "\"15s\"", null)]
    [InlineData("spec.autoscaling.interval", "\"1s\"", null)]
    [InlineData("spec.autoscaling.interval", "\"500ms\"", "spec.autoscaling.interval: Invalid value: \"string\": must be a duration of at least 1s")]
    [InlineData("spec.placement.rebalanceInterval", "\"1h\"", null)]
    [InlineData("spec.placement.rebalanceInterval", "\"59s\"", "spec.placement.rebalanceInterval: Invalid value: \"string\": must be a duration of at least 1m")]
    [InlineData("spec.placement.rebalanceInterval", "\"ten minutes\"", "spec.placement.rebalanceInterval: Invalid value: \"string\": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: must be a duration of at least 1m")]
    public void Durations_HaveLowerBounds(string field, string json, string? expected)
    {
        var errors = Evaluate(CrdYaml.Node(field), json, field);

        Assert.Equal(expected is null ? [] : [expected], errors);
    }

    [Theory]
    [InlineData("spec.autoscaling.routers")]
    [InlineData("spec.autoscaling.shards")]
    public void ReplicaBounds_MinMustNotExceedMax(string field)
    {
        var node = CrdYaml.Node(field);

        Assert.Empty(Evaluate(node, """{"minReplicas": 2, "maxReplicas": 2}""", field));
        Assert.Equal(
            [$"{field}.minReplicas: Invalid value: \"object\": minReplicas must not be greater than maxReplicas"],
            Evaluate(node, """{"minReplicas": 3, "maxReplicas": 2}""", field));
    }

    [Fact]
    public void Autoscaling_RequiresPrometheusUrlWhenEnabled()
    {
        var node = CrdYaml.Node("spec.autoscaling");

        Assert.Empty(Evaluate(node, """{"enabled": false}""", "spec.autoscaling"));
        Assert.Empty(Evaluate(node, """{"enabled": true, "prometheusUrl": "http://prometheus:9090"}""", "spec.autoscaling"));
        Assert.Equal(
            ["spec.autoscaling.prometheusUrl: Invalid value: \"object\": prometheusUrl is required when autoscaling is enabled"],
            Evaluate(node, """{"enabled": true}""", "spec.autoscaling"));
    }

    [Fact]
    public void RuleWithoutMessage_SaysFailedRule()
    {
        var schema = Schema("""{"type": "integer", "x-kubernetes-validations": [{"rule": "self < 10"}]}""");

        Assert.Equal(["spec.replicas: Invalid value: \"integer\": failed rule: self < 10"], Evaluate(schema, "12", "spec.replicas"));
    }

    [Fact]
    public void MessageExpression_GivesTheDetail_AndFallsBackWhenItFails()
    {
        var schema = Schema("""
            {"type": "object", "properties": {"n": {"type": "integer"}}, "x-kubernetes-validations": [
              {"rule": "self.n < 10", "messageExpression": "'n is ' + string(self.n) + ', the most is 9'"},
              {"rule": "self.n < 5", "message": "n is too big", "messageExpression": "string(self.n / 0)"}]}
            """);

        Assert.Equal(
            ["spec: Invalid value: \"object\": n is 12, the most is 9", "spec: Invalid value: \"object\": n is too big"],
            Evaluate(schema, """{"n": 12}""", "spec"));
    }

    [Theory]
    [InlineData("FieldValueForbidden", "spec.x: Forbidden: no")]
    [InlineData("FieldValueRequired", "spec.x: Required value: no")]
    [InlineData("FieldValueDuplicate", "spec.x: Duplicate value: \"string\"")]
    [InlineData("FieldValueInvalid", "spec.x: Invalid value: \"string\": no")]
    public void Reason_ChoosesTheErrorType(string reason, string expected)
    {
        var schema = Schema($$"""{"type": "string", "x-kubernetes-validations": [{"rule": "self == 'yes'", "message": "no", "reason": "{{reason}}"}]}""");

        Assert.Equal([expected], Evaluate(schema, "\"maybe\"", "spec.x"));
    }

    [Fact]
    public void FieldPath_WithQuotedNameAndMapKey_IsAppendedAsKubernetesDoes()
    {
        var schema = Schema("""
            {"type": "object", "properties": {
               "a.b": {"type": "integer"},
               "labels": {"type": "object", "additionalProperties": {"type": "string"}}},
             "x-kubernetes-validations": [
               {"rule": "self.a__dot__b > 0", "fieldPath": "['a.b']"},
               {"rule": "'app' in self.labels", "fieldPath": ".labels['app']"}]}
            """);

        Assert.Equal(
            ["spec.a.b: Invalid value: \"object\": failed rule: self.a__dot__b > 0", "spec.labels[app]: Invalid value: \"object\": failed rule: 'app' in self.labels"],
            Evaluate(schema, """{"a.b": 0, "labels": {}}""", "spec"));
    }

    [Fact]
    public void TransitionRule_RunsOnlyWithAnOldValue()
    {
        var schema = Schema("""{"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "is immutable"}]}""");

        Assert.Empty(Evaluate(schema, "\"b\"", "spec.name"));
        Assert.Empty(Evaluate(schema, "\"a\"", "spec.name", old: "\"a\""));
        Assert.Equal(["spec.name: Invalid value: \"string\": is immutable"], Evaluate(schema, "\"b\"", "spec.name", old: "\"a\""));
    }

    [Fact]
    public void RuntimeErrors_AreReportedWithTheRule()
    {
        var schema = Schema("""
            {"type": "object", "properties": {"v": {"x-kubernetes-int-or-string": true}, "m": {"type": "object", "additionalProperties": {"type": "integer"}}},
             "x-kubernetes-validations": [{"rule": "self.v > 1"}, {"rule": "self.m['x'] > 0", "message": "x must be positive"}]}
            """);

        Assert.Equal(
            [
                "spec: Invalid value: \"object\": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self.v > 1",
                "spec: Invalid value: \"object\": no such key: x evaluating rule: x must be positive",
            ],
            Evaluate(schema, """{"v": "a", "m": {}}""", "spec"));
        Assert.Empty(Evaluate(schema, """{"v": 2, "m": {"x": 1}}""", "spec"));
    }

    [Fact]
    public void Values_AreTypedByTheSchema()
    {
        var schema = Schema("""
            {"type": "object", "properties": {
               "ratio": {"type": "number"}, "count": {"type": "integer"},
               "port": {"x-kubernetes-int-or-string": true}, "name": {"type": "string"},
               "timeout": {"type": "string", "format": "duration"}, "at": {"type": "string", "format": "date-time"},
               "data": {"type": "string", "format": "byte"},
               "tags": {"type": "array", "items": {"type": "string"}}},
             "x-kubernetes-validations": [{"rule":
               "type(self.ratio) == double && type(self.count) == int && type(self.port) == string && self.timeout == duration('90s') && self.at.getFullYear() == 2024 && self.data == b'hi' && self.tags.all(t, t.size() == 1) && !has(self.name)"}]}
            """);

        Assert.Empty(Evaluate(schema, """{"ratio": 2, "count": 3, "port": "http", "timeout": "1m30s", "at": "2024-05-01T00:00:00Z", "data": "aGk=", "tags": ["a", "b"]}""", "spec"));
    }

    [Fact]
    public void ResourceRoot_SeesApiVersionKindAndMetadataName()
    {
        var schema = Schema("""{"type": "object", "properties": {"spec": {"type": "object"}}, "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('ds-') && self.kind == 'DeepSeekModel'"}]}""");

        Assert.Empty(_rules.Compile(schema, "spec.versions[0].schema.openAPIV3Schema"));
        Assert.Single(Evaluate(schema, """{"kind": "DeepSeekModel", "metadata": {"name": "other"}, "spec": {}}""", ""));
        Assert.Empty(Evaluate(schema, """{"kind": "DeepSeekModel", "metadata": {"name": "ds-1"}, "spec": {}}""", ""));
    }

    [Fact]
    public void NullValues_AreNotValidated()
    {
        var schema = Schema("""{"type": "string", "nullable": true, "x-kubernetes-validations": [{"rule": "self.size() > 3"}]}""");

        Assert.Empty(Evaluate(schema, "null", "spec.x"));
    }
}
