using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Patching;

namespace DeepSeekOperator.DevCluster.Tests.Patching;

public sealed class JsonPatchTests
{
    private const string Deployment = """{"metadata":{"name":"web","labels":{"app":"web"}},"spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"a","image":"nginx"},{"name":"b","image":"redis"}]}}}}""";

    [Theory]
    [InlineData("""[{"op":"replace","path":"/spec/replicas","value":5}]""", "/spec/replicas", "5")]
    [InlineData("""[{"op":"add","path":"/metadata/labels/tier","value":"fe"}]""", "/metadata/labels/tier", "\"fe\"")]
    [InlineData("""[{"op":"add","path":"/metadata/annotations","value":{"a/b":"c"}},{"op":"add","path":"/metadata/annotations/x~1y","value":"z"}]""", "/metadata/annotations/x~1y", "\"z\"")]
    [InlineData("""[{"op":"add","path":"/metadata/labels/t~0x","value":"1"}]""", "/metadata/labels/t~0x", "\"1\"")]
    [InlineData("""[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"c"}}]""", "/spec/template/spec/containers/2/name", "\"c\"")]
    [InlineData("""[{"op":"add","path":"/spec/template/spec/containers/0","value":{"name":"z"}}]""", "/spec/template/spec/containers/1/name", "\"a\"")]
    [InlineData("""[{"op":"remove","path":"/spec/template/spec/containers/0"}]""", "/spec/template/spec/containers/0/name", "\"b\"")]
    [InlineData("""[{"op":"remove","path":"/spec/template/spec/containers/-1"}]""", "/spec/template/spec/containers/0/name", "\"a\"")]
    [InlineData("""[{"op":"move","from":"/metadata/labels/app","path":"/metadata/labels/name"}]""", "/metadata/labels/name", "\"web\"")]
    [InlineData("""[{"op":"copy","from":"/spec/template/spec/containers/1","path":"/spec/template/spec/containers/0"}]""", "/spec/template/spec/containers/0/image", "\"redis\"")]
    [InlineData("""[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":3}]""", "/spec/replicas", "3")]
    [InlineData("""[{"op":"replace","path":"/metadata/labels/new","value":"added"}]""", "/metadata/labels/new", "\"added\"")]
    public void Apply_Operation_ChangesTheDocument(string patch, string location, string expected)
    {
        var result = JsonPatch.Apply(JsonNode.Parse(Deployment)!, patch);

        Assert.Equal(expected, At(result, location)?.ToJsonString());
    }

    [Fact]
    public void Apply_DoesNotModifyTheInput()
    {
        var original = JsonNode.Parse(Deployment)!;

        JsonPatch.Apply(original, """[{"op":"remove","path":"/spec"}]""");

        Assert.Equal(Deployment, original.ToJsonString());
    }

    [Theory]
    [InlineData("""[{"op":"test","path":"/spec/replicas","value":3}]""", "testing value /spec/replicas failed: test failed")]
    [InlineData("""[{"op":"remove","path":"/metadata/labels/missing"}]""", "error in remove for path: '/metadata/labels/missing': Unable to remove nonexistent key: missing: missing value")]
    [InlineData("""[{"op":"remove","path":"/status/phase"}]""", "remove operation does not apply: doc is missing path: \"/status/phase\": missing value")]
    [InlineData("""[{"op":"add","path":"/status/phase","value":"x"}]""", "add operation does not apply: doc is missing path: \"/status/phase\": missing value")]
    [InlineData("""[{"op":"replace","path":"/spec/template/spec/containers/5","value":{}}]""", "replace operation does not apply: doc is missing key: /spec/template/spec/containers/5: missing value")]
    [InlineData("""[{"op":"add","path":"/spec/template/spec/containers/9","value":{}}]""", "error in add for path: '/spec/template/spec/containers/9': Unable to access invalid index: 9: invalid index referenced")]
    [InlineData("""[{"op":"add","path":"/spec/template/spec/containers/x","value":{}}]""", "error in add for path: '/spec/template/spec/containers/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax")]
    [InlineData("""[{"op":"move","from":"/nowhere/x","path":"/a"}]""", "move operation does not apply: doc is missing from path: /nowhere/x: missing value")]
    [InlineData("""[{"op":"frobnicate","path":"/a"}]""", "Unexpected kind: frobnicate")]
    [InlineData("""[{"op":"remove"}]""", "remove operation failed to decode path: missing value")]
    public void Apply_OperationThatDoesNotApply_Is422WithTheLibraryMessageAsCause(string patch, string detail)
    {
        var error = Assert.Throws<PatchException>(() => JsonPatch.Apply(JsonNode.Parse(Deployment)!, patch));

        Assert.Equal(422, error.Code);
        Assert.Equal("Invalid", error.Reason);
        Assert.Equal("the server rejected our request due to an error in our request", error.Message);
        var cause = Assert.Single(error.Causes);
        Assert.Equal("UnexpectedServerResponse", cause.Reason);
        Assert.Equal(detail, cause.Message);
    }

    [Fact]
    public void Apply_FailingTest_LeavesTheStatusKubectlPrints()
    {
        var error = Assert.Throws<PatchException>(() => JsonPatch.Apply(JsonNode.Parse(Deployment)!, """[{"op":"test","path":"/spec/replicas","value":9}]"""));

        Assert.Equal(
            """{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server rejected our request due to an error in our request","reason":"Invalid","details":{"causes":[{"reason":"UnexpectedServerResponse","message":"testing value /spec/replicas failed: test failed"}]},"code":422}""",
            error.ToStatus().ToJsonString());
    }

    [Theory]
    [InlineData("""{"op":"add"}""", "json: cannot unmarshal object into Go value of type jsonpatch.Patch")]
    [InlineData("""["add"]""", "json: cannot unmarshal string into Go value of type jsonpatch.Operation")]
    [InlineData("""[{"op":""", "unexpected end of JSON input")]
    [InlineData("""[x]""", "invalid character 'x' looking for beginning of value")]
    public void Apply_BodyThatIsNotAPatch_IsBadRequest(string body, string message)
    {
        var error = Assert.Throws<PatchException>(() => JsonPatch.Apply(JsonNode.Parse("{}")!, body));

        Assert.Equal(400, error.Code);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Apply_MoreThanTenThousandOperations_IsRequestEntityTooLarge()
    {
        var patch = "[" + string.Join(',', Enumerable.Repeat("""{"op":"test","path":"/a","value":1}""", 10001)) + "]";

        var error = Assert.Throws<PatchException>(() => JsonPatch.Apply(JsonNode.Parse("""{"a":1}""")!, patch));

        Assert.Equal(413, error.Code);
        Assert.Equal("Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001", error.Message);
    }

    private static JsonNode? At(JsonNode node, string location)
    {
        var current = node;
        foreach (var raw in location.Split('/').Skip(1))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            current = current is JsonArray array ? array[int.Parse(segment, System.Globalization.CultureInfo.InvariantCulture)] : current?[segment];
        }

        return current;
    }
}
