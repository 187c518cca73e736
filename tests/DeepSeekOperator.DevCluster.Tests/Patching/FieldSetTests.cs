using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;
using DeepSeekOperator.DevCluster.Internal.Patching;

namespace DeepSeekOperator.DevCluster.Tests.Patching;

public sealed class FieldSetTests
{
    [Fact]
    public void FieldsV1_RoundTrips_WithDotForMembersThatHaveChildren()
    {
        const string fieldsV1 = """{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}""";

        var set = FieldSet.FromFieldsV1(JsonNode.Parse(fieldsV1)!.AsObject());

        Assert.Equal(fieldsV1, set.ToFieldsV1().ToJsonString(JsonValues.Relaxed));
    }

    [Fact]
    public void Paths_PrintAsStructuredMergeDiffDoes()
    {
        var set = FieldSet.FromFieldsV1(JsonNode.Parse("""
            {"f:metadata":{"f:finalizers":{"v:\"example.com/x\"":{}}},
             "f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:image":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{}}}}}}}}
            """)!.AsObject());

        Assert.Equal(
            [
                ".metadata.finalizers[=\"example.com/x\"]",
                ".spec.replicas",
                ".spec.template.spec.containers[name=\"web\"].image",
                ".spec.template.spec.containers[name=\"web\"].ports[containerPort=80,protocol=\"TCP\"]",
            ],
            set.Paths().Select(PathElement.Format));
    }

    [Fact]
    public void SetOperations_WorkOnPaths()
    {
        var a = Set(".spec.replicas", ".spec.paused", ".metadata.labels.app");
        var b = Set(".spec.replicas", ".metadata.labels.tier");

        Assert.Equal(["spec.replicas"], Printed(a.Intersection(b)));
        Assert.Equal(["metadata.labels.app", "spec.paused"], Printed(a.Difference(b)));
        Assert.Equal(["metadata.labels.app", "metadata.labels.tier", "spec.paused", "spec.replicas"], Printed(a.Union(b)));
        Assert.True(a.Difference(a).IsEmpty);
    }

    [Fact]
    public void FromFieldsV1_RejectsUnknownElements()
    {
        Assert.Throws<FormatException>(() => FieldSet.FromFieldsV1(JsonNode.Parse("""{"x:y":{}}""")!.AsObject()));
    }

    private static FieldSet Set(params string[] paths)
    {
        var set = new FieldSet();
        foreach (var path in paths)
        {
            set.Insert([.. path.Split('.', StringSplitOptions.RemoveEmptyEntries).Select(PathElement.Field)]);
        }

        return set;
    }

    private static string[] Printed(FieldSet set) => [.. set.Paths().Select(p => PathElement.Format(p).TrimStart('.')).Order(StringComparer.Ordinal)];
}
