using DeepSeekOperator.DevCluster.Internal.Schema;

namespace DeepSeekOperator.DevCluster.Tests.Schema;

/// <summary>Pruning of unknown fields, and the paths reported for <c>fieldValidation=Strict</c>.</summary>
public sealed class PruningTests
{
    private static readonly string Schema = """
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer}
              items: {type: array, items: {type: object, properties: {name: {type: string}}}}
              labels: {type: object, additionalProperties: {type: string}}
              free: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {known: {type: object, properties: {a: {type: string}}}}}
              template: {type: object, x-kubernetes-embedded-resource: true, properties: {spec: {type: object}}}
        """;

    [Fact]
    public void Prune_UnknownFields_AreRemovedAndReportedSorted()
    {
        var obj = YamlJson.Read("""
            apiVersion: g/v1
            kind: K
            metadata: {name: x, unknownMeta: kept}
            spec:
              replicas: 1
              zeta: 1
              items: [{name: a, extra: 1}]
              labels: {any: thing}
              free: {anything: goes, known: {a: x, b: y}}
              template: {apiVersion: v1, kind: Pod, metadata: {name: p}, status: {}}
            status: {phase: Ready}
            """);

        var pruned = SchemaPruning.Prune(obj, YamlJson.Object(Schema));

        Assert.Equal(["spec.free.known.b", "spec.items[0].extra", "spec.template.status", "spec.zeta", "status"], pruned);
        Assert.Equal(
            """{"apiVersion":"g/v1","kind":"K","metadata":{"name":"x","unknownMeta":"kept"},"spec":{"replicas":1,"items":[{"name":"a"}],"labels":{"any":"thing"},"free":{"anything":"goes","known":{"a":"x"}},"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}}}""",
            obj.ToJsonString());
    }

    [Fact]
    public void Prune_KnownObject_IsLeftAlone()
    {
        var obj = YamlJson.Read("{apiVersion: g/v1, kind: K, metadata: {name: x}, spec: {replicas: 2}}");

        Assert.Empty(SchemaPruning.Prune(obj, YamlJson.Object(Schema)));
    }
}
