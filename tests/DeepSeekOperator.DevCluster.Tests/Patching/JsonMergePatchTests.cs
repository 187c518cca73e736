using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Patching;

namespace DeepSeekOperator.DevCluster.Tests.Patching;

public sealed class JsonMergePatchTests
{
    /// <summary>The examples of RFC 7386, appendix A.</summary>
    [Theory]
    [InlineData("""{"a":"b"}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"b":"c"}""", """{"a":"b","b":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"a":null}""", """{}""")]
    [InlineData("""{"a":"b","b":"c"}""", """{"a":null}""", """{"b":"c"}""")]
    [InlineData("""{"a":["b"]}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"c"}""", """{"a":["b"]}""", """{"a":["b"]}""")]
    [InlineData("""{"a":{"b":"c"}}""", """{"a":{"b":"d","c":null}}""", """{"a":{"b":"d"}}""")]
    [InlineData("""{"a":[{"b":"c"}]}""", """{"a":[1]}""", """{"a":[1]}""")]
    [InlineData("""{"e":null}""", """{"a":1}""", """{"e":null,"a":1}""")]
    [InlineData("""{}""", """{"a":{"bb":{"ccc":null}}}""", """{"a":{"bb":{}}}""")]
    [InlineData("""{"a":"foo"}""", """["c"]""", """["c"]""")]
    public void Apply_RfcExamples_GiveTheRfcResults(string original, string patch, string expected)
    {
        var result = JsonMergePatch.Apply(JsonNode.Parse(original), patch);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result.ToJsonString());
    }

    [Fact]
    public void Apply_MetadataLabels_MergesAndDeletesLikeKubectlPatchTypeMerge()
    {
        var pod = JsonNode.Parse("""{"metadata":{"name":"p","labels":{"app":"web","tier":"fe"}},"spec":{"containers":[{"name":"a","image":"nginx"}]}}""");

        var result = JsonMergePatch.Apply(pod, """{"metadata":{"labels":{"tier":null,"env":"prod"}},"spec":{"containers":[{"name":"b","image":"redis"}]}}""");

        Assert.Equal("""{"metadata":{"name":"p","labels":{"app":"web","env":"prod"}},"spec":{"containers":[{"name":"b","image":"redis"}]}}""", result.ToJsonString());
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("null")]
    [InlineData("5")]
    public void Apply_BodyThatIsNotAPatch_IsBadRequestInvalidJsonPatch(string body)
    {
        var error = Assert.Throws<PatchException>(() => JsonMergePatch.Apply(JsonNode.Parse("{}"), body));

        Assert.Equal(400, error.Code);
        Assert.Equal("BadRequest", error.Reason);
        Assert.Equal("Invalid JSON Patch", error.Message);
    }
}
