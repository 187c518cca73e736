using DeepSeekOperator.DevCluster.Internal.Patching;

namespace DeepSeekOperator.DevCluster.Tests.Patching;

public sealed class ApplyPatchBodyTests
{
    [Fact]
    public void Parse_Yaml_ResolvesScalarsAsKubernetesDoes()
    {
        var body = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              labels: &labels
                app: web
            data:
              quoted: "yes"
              count: "3"
            spec:
              enabled: yes
              off: off
              replicas: 3
              octal: 0755
              ratio: 0.5
              nothing: ~
              copy: *labels
            """;

        var result = ApplyPatchBody.Parse(body);

        Assert.Equal(
            """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","labels":{"app":"web"}},"data":{"quoted":"yes","count":"3"},"spec":{"enabled":true,"false":false,"replicas":3,"octal":493,"ratio":0.5,"nothing":null,"copy":{"app":"web"}}}""",
            result!.ToJsonString());
    }

    [Fact]
    public void Parse_Json_IsYamlToo()
    {
        var result = ApplyPatchBody.Parse("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"},"x":[1,2.5,true,null]}""");

        Assert.Equal("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"},"x":[1,2.5,true,null]}""", result!.ToJsonString());
    }

    [Fact]
    public void Parse_BrokenYaml_IsBadRequest()
    {
        var error = Assert.Throws<PatchException>(() => ApplyPatchBody.Parse("metadata:\n  name: [a\n"));

        Assert.Equal(400, error.Code);
        Assert.StartsWith("error decoding YAML: ", error.Message, StringComparison.Ordinal);
    }
}
