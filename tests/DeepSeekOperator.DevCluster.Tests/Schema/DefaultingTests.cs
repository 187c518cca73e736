using DeepSeekOperator.DevCluster.Internal.Schema;

namespace DeepSeekOperator.DevCluster.Tests.Schema;

/// <summary>Defaulting of custom objects as apiextensions does it.</summary>
public sealed class DefaultingTests
{
    private static readonly string Schema = """
        type: object
        properties:
          spec:
            type: object
            default: {}
            properties:
              replicas: {type: integer, default: 1}
              mode: {type: string, default: fast}
              maybe: {type: string, nullable: true, default: set}
              gone: {type: string}
              ports:
                type: array
                items: {type: object, properties: {name: {type: string}, protocol: {type: string, default: TCP}}}
              limits:
                type: object
                additionalProperties: {type: object, properties: {unit: {type: string, default: Gi}}}
              nested: {type: object, default: {}, properties: {depth: {type: integer, default: 2}}}
        """;

    [Fact]
    public void ApplyDefaults_AbsentSpec_IsDefaultedAllTheWayDown()
    {
        var obj = YamlJson.Read("{metadata: {name: x}}");

        SchemaDefaulting.ApplyDefaults(obj, YamlJson.Object(Schema));

        Assert.Equal(
            """{"metadata":{"name":"x"},"spec":{"replicas":1,"mode":"fast","maybe":"set","nested":{"depth":2}}}""",
            obj.ToJsonString());
    }

    [Fact]
    public void ApplyDefaults_ItemsAndMapValues_GetTheirDefaults_AndNullsAreHandledByNullability()
    {
        var obj = YamlJson.Read("""
            metadata: {name: x}
            spec:
              replicas: null
              mode: slow
              maybe: null
              gone: null
              ports: [{name: http}, {name: dns, protocol: UDP}]
              limits: {memory: {}}
            """);

        SchemaDefaulting.ApplyDefaults(obj, YamlJson.Object(Schema));

        Assert.Equal(
            """{"metadata":{"name":"x"},"spec":{"replicas":1,"mode":"slow","maybe":null,"ports":[{"name":"http","protocol":"TCP"},{"name":"dns","protocol":"UDP"}],"limits":{"memory":{"unit":"Gi"}},"nested":{"depth":2}}}""",
            obj.ToJsonString());
    }

    [Fact]
    public void ApplyDefaults_DefaultsAreCopies_SoChangingOneObjectLeavesTheSchemaAlone()
    {
        var schema = YamlJson.Object("{type: object, properties: {spec: {type: object, default: {tags: [a]}, properties: {tags: {type: array, items: {type: string}}}}}}");
        var first = YamlJson.Read("{metadata: {name: x}}");
        SchemaDefaulting.ApplyDefaults(first, schema);

        first["spec"]!["tags"]!.AsArray().Add("b");
        var second = YamlJson.Read("{metadata: {name: y}}");
        SchemaDefaulting.ApplyDefaults(second, schema);

        Assert.Equal("""{"tags":["a"]}""", second["spec"]!.ToJsonString());
    }
}
