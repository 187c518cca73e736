using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;

namespace DeepSeekOperator.DevCluster.Tests.Schema;

/// <summary>Values printed as Go prints them in kube-apiserver's messages.</summary>
public sealed class GoTextTests
{
    [Theory]
    [InlineData(1000.0, "1000")]
    [InlineData(0.9, "0.9")]
    [InlineData(1.5e-5, "1.5e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(-2.5e22, "-2.5e+22")]
    [InlineData(2147483648.0, "2147483648")]
    public void Float_PrintsLikeGoPercentV(double value, string expected) => Assert.Equal(expected, GoText.Float(value));

    [Fact]
    public void SharpV_Map_SortsKeysAsGoDoes() =>
        Assert.Equal("map[string]interface {}{\"a\":[]interface {}{1, \"x\", interface {}(nil)}, \"b\":true}", GoText.SharpV(YamlJson.Object("{b: true, a: [1, x, null]}")));

    [Theory]
    [InlineData("1", true)]
    [InlineData("1.0", false)]
    [InlineData("1e3", false)]
    [InlineData("-9223372036854775808", true)]
    [InlineData("9223372036854775808", false)]
    public void KindOf_NumberText_IsAnIntegerOnlyWhenItParsesAsInt64(string json, bool isInteger) =>
        Assert.Equal(isInteger ? JsonKind.Integer : JsonKind.Number, JsonValues.KindOf(JsonNode.Parse(json)));
}
