using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Patching;

namespace DeepSeekOperator.DevCluster.Tests.Patching;

public sealed class StrategicMergePatchTests
{
    /// <summary>The Deployment of "Update API Objects in Place Using kubectl patch".</summary>
    private const string PatchDemo = """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"patch-demo"},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"nginx"}},
          "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
          "template":{"metadata":{"labels":{"app":"nginx"}},
           "spec":{"containers":[{"name":"patch-demo-ctr","image":"nginx","ports":[{"containerPort":80}]}],
            "tolerations":[{"effect":"NoSchedule","key":"dedicated","value":"test-team"}]}}}}
        """;

    private static readonly BuiltInSchema DeploymentSchema = BuiltInSchema.For("apps", "Deployment");

    [Fact]
    public void Containers_MergeByName_NewContainerComesFirst()
    {
        var result = Patch(PatchDemo, """{"spec":{"template":{"spec":{"containers":[{"name":"patch-demo-ctr-2","image":"redis"}]}}}}""");

        Assert.Equal(
            """[{"name":"patch-demo-ctr-2","image":"redis"},{"name":"patch-demo-ctr","image":"nginx","ports":[{"containerPort":80}]}]""",
            result["spec"]!["template"]!["spec"]!["containers"]!.ToJsonString());
    }

    [Fact]
    public void Tolerations_HaveNoPatchStrategy_AndAreReplaced()
    {
        var result = Patch(PatchDemo, """{"spec":{"template":{"spec":{"tolerations":[{"effect":"NoSchedule","key":"disktype","value":"ssd"}]}}}}""");

        Assert.Equal(
            """[{"effect":"NoSchedule","key":"disktype","value":"ssd"}]""",
            result["spec"]!["template"]!["spec"]!["tolerations"]!.ToJsonString());
    }

    [Fact]
    public void RetainKeys_ClearsTheFieldsNotListed()
    {
        var result = Patch(PatchDemo, """{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}""");

        Assert.Equal("""{"type":"Recreate"}""", result["spec"]!["strategy"]!.ToJsonString());
    }

    [Fact]
    public void ExistingContainer_MergesFieldsAndPortsByContainerPort()
    {
        var result = Patch(PatchDemo, """{"spec":{"template":{"spec":{"containers":[{"name":"patch-demo-ctr","image":"nginx:1.27","ports":[{"containerPort":80,"name":"http"},{"containerPort":443}]}]}}}}""");

        Assert.Equal(
            """[{"name":"patch-demo-ctr","image":"nginx:1.27","ports":[{"containerPort":80,"name":"http"},{"containerPort":443}]}]""",
            result["spec"]!["template"]!["spec"]!["containers"]!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"spec":{"replicas":null}}""", "/spec", """{"selector":{"matchLabels":{"app":"nginx"}},"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},"template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"containers":[{"name":"patch-demo-ctr","image":"nginx","ports":[{"containerPort":80}]}],"tolerations":[{"effect":"NoSchedule","key":"dedicated","value":"test-team"}]}}}""")]
    [InlineData("""{"spec":{"template":{"metadata":{"labels":{"$patch":"replace","tier":"web"}}}}}""", "/spec/template/metadata/labels", """{"tier":"web"}""")]
    [InlineData("""{"spec":{"strategy":{"$patch":"delete"}}}""", "/spec/strategy", """{}""")]
    [InlineData("""{"spec":{"template":{"spec":{"containers":[{"name":"patch-demo-ctr","$patch":"delete"}]}}}}""", "/spec/template/spec/containers", """[]""")]
    [InlineData("""{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"busybox"},{"$patch":"replace"}]}}}}""", "/spec/template/spec/containers", """[{"name":"only","image":"busybox"}]""")]
    [InlineData("""{"spec":{"template":{"spec":{"containers":[{"name":"new","image":"busybox","command":null}]}}}}""", "/spec/template/spec/containers/0", """{"name":"new","image":"busybox"}""")]
    [InlineData("""{"metadata":{"labels":{"a":"b","c":null}}}""", "/metadata/labels", """{"a":"b"}""")]
    public void Directives_AndNulls_BehaveAsInKubernetes(string patch, string location, string expected)
    {
        var result = Patch(PatchDemo, patch);

        Assert.Equal(expected, At(result, location)!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"metadata":{"finalizers":["c","a"]}}""", """["c","a","b"]""")]
    [InlineData("""{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}""", """["b"]""")]
    [InlineData("""{"metadata":{"$setElementOrder/finalizers":["b","a"]}}""", """["b","a"]""")]
    public void Finalizers_ArePrimitiveListsThatMerge(string patch, string expected)
    {
        var pod = """{"metadata":{"name":"p","finalizers":["a","b"]}}""";

        var result = StrategicMergePatch.Apply(JsonNode.Parse(pod)!.AsObject(), patch, BuiltInSchema.For("", "Pod"));

        Assert.Equal(expected, result["metadata"]!["finalizers"]!.ToJsonString());
    }

    [Fact]
    public void SetElementOrder_OrdersTheMergedList()
    {
        var pod = """{"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}]}}""";

        var result = StrategicMergePatch.Apply(
            JsonNode.Parse(pod)!.AsObject(),
            """{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"a","image":"3"}]}}""",
            BuiltInSchema.For("", "Pod"));

        Assert.Equal("""[{"name":"b","image":"2"},{"name":"a","image":"3"}]""", result["spec"]!["containers"]!.ToJsonString());
    }

    [Fact]
    public void ServicePorts_MergeByPort()
    {
        var service = """{"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}}""";

        var result = StrategicMergePatch.Apply(JsonNode.Parse(service)!.AsObject(), """{"spec":{"ports":[{"port":80,"targetPort":9090}]}}""", BuiltInSchema.For("", "Service"));

        Assert.Equal("""[{"port":80,"targetPort":9090},{"port":443}]""", result["spec"]!["ports"]!.ToJsonString());
    }

    [Fact]
    public void ConfigMapData_MergesAsAMap()
    {
        var configMap = """{"data":{"a":"1","b":"2"}}""";

        var result = StrategicMergePatch.Apply(JsonNode.Parse(configMap)!.AsObject(), """{"data":{"b":null,"c":"3"}}""", BuiltInSchema.For("", "ConfigMap"));

        Assert.Equal("""{"a":"1","c":"3"}""", result["data"]!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}""", 500, "map: map[image:x] does not contain declared merge key: name")]
    [InlineData("""{"spec":{"strategy":{"$patch":"frob","a":"b"}}}""", 500, "unknown patch type: frob in map: map[$patch:frob a:b]")]
    [InlineData("""{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}}""", 400, "invalid patch format of retainKeys")]
    [InlineData("""{"spec":{"strategy":{"$retainKeys":"type"}}}""", 400, "invalid patch format of retainKeys")]
    [InlineData("""{"metadata":{"$deleteFromPrimitiveList":["a"]}}""", 400, "invalid patch format of primitive list")]
    [InlineData("""[{"op":"add"}]""", 400, "json: cannot unmarshal array into Go value of type map[string]interface {}")]
    public void MalformedPatches_GetKubernetesStatusCodes(string patch, int code, string message)
    {
        var error = Assert.Throws<PatchException>(() => Patch(PatchDemo, patch));

        Assert.Equal(code, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void ListOfLists_IsUnprocessable()
    {
        var pod = JsonNode.Parse("""{"metadata":{"name":"p","finalizers":[]}}""")!.AsObject();

        var error = Assert.Throws<PatchException>(() => StrategicMergePatch.Apply(pod, """{"metadata":{"finalizers":[["a"]]}}""", BuiltInSchema.For("", "Pod")));

        Assert.Equal(422, error.Code);
        Assert.Equal("lists of lists are not supported", Assert.Single(error.Causes).Message);
    }

    [Fact]
    public void CustomResource_DoesNotAcceptStrategicMergePatch()
    {
        var error = Assert.Throws<PatchException>(() => PatchTypes.Negotiate("application/strategic-merge-patch+json; charset=utf-8", PatchTypes.CustomResource));

        Assert.Equal(415, error.Code);
        Assert.Equal("UnsupportedMediaType", error.Reason);
        Assert.Equal(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
            error.Message);
        Assert.Equal(PatchTypes.StrategicMerge, PatchTypes.Negotiate("application/strategic-merge-patch+json; charset=utf-8", PatchTypes.BuiltIn));
    }

    private static JsonObject Patch(string original, string patch) => StrategicMergePatch.Apply(JsonNode.Parse(original)!.AsObject(), patch, DeploymentSchema);

    private static JsonNode? At(JsonNode node, string location)
    {
        var current = node;
        foreach (var segment in location.Split('/').Skip(1))
        {
            current = current is JsonArray array ? array[int.Parse(segment, System.Globalization.CultureInfo.InvariantCulture)] : current?[segment];
        }

        return current;
    }
}
