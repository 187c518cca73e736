using System.Text.Json.Nodes;
using DeepSeekOperator.Api.Internal;
using DeepSeekOperator.Api.V1Alpha1;

namespace DeepSeekOperator.Api.Tests;

public class SampleManifestTests
{
    private static readonly NJsonSchema.JsonSchema JsonSchema =
        SchemaFiles.ToJsonSchema(SchemaFiles.OpenApiSchema(Yaml.ReadDocuments(File.ReadAllText(SchemaFiles.CrdPath)).Single()!));

    [Fact]
    public void Samples_AreTheThreeTheDocsName() =>
        Assert.Equal(["deepseek-v2-lite.yaml", "deepseek-v3.yaml", "tiny-synthetic.yaml"], ManifestTestData.SampleFiles());

    [Theory]
    [MemberData(nameof(ManifestTestData.Samples), MemberType = typeof(ManifestTestData))]
    public void Sample_PassesTheGeneratedSchemaInAJsonSchemaValidator(string file)
    {
        var document = Yaml.ReadDocuments(File.ReadAllText(Path.Combine(ManifestTestData.SamplesDirectory, file))).Single()!;
        var errors = JsonSchema.Validate(document.ToJsonString());
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Theory]
    [MemberData(nameof(ManifestTestData.Samples), MemberType = typeof(ManifestTestData))]
    public void Sample_PassesTheOperatorsValidation(string file)
    {
        var result = DeepSeekModelManifest.Read(File.ReadAllText(Path.Combine(ManifestTestData.SamplesDirectory, file)));
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(DeepSeekModelManifest.Validate(result.Model!));
    }

    [Fact]
    public void TinySynthetic_IsFourCpuShardsOfTheTinyPreset()
    {
        var model = DeepSeekModelManifest.Read(File.ReadAllText(Path.Combine(ManifestTestData.SamplesDirectory, "tiny-synthetic.yaml"))).Model!;
        Assert.Equal(SyntheticPreset.Tiny, model.Spec.Model.Source.Synthetic!.Preset);
        Assert.Equal(4, model.Spec.Experts.Shards);
        Assert.Equal(ComputeDevice.Cpu, model.Spec.Runtime.Device);
    }

    [Fact]
    public void DeepSeekV3_Is32GpuShardsFromAPvcWithAutoscaling()
    {
        var model = DeepSeekModelManifest.Read(File.ReadAllText(Path.Combine(ManifestTestData.SamplesDirectory, "deepseek-v3.yaml"))).Model!;
        Assert.Equal("dsv3-weights", model.Spec.Model.Source.Pvc!.ClaimName);
        Assert.Equal(32, model.Spec.Experts.Shards);
        Assert.Equal(ComputeDevice.Cuda, model.Spec.Runtime.Device);
        Assert.True(model.Spec.Autoscaling.Enabled);
        Assert.Equal("1", model.Spec.Experts.Resources!.Limits["nvidia.com/gpu"].ToString());
    }

    [Fact]
    public void JsonSchemaValidator_RejectsWhatTheSchemaForbids()
    {
        // The independent validator must be able to fail, or the sample tests above prove nothing.
        var document = JsonNode.Parse("""{"apiVersion":"moe.deepseek-operator.io/v1alpha1","kind":"DeepSeekModel","metadata":{"name":"x"},"spec":{"model":{"source":{"synthetic":{}}},"experts":{"shards":4096}}}""")!;
        Assert.Contains(JsonSchema.Validate(document.ToJsonString()), e => e.Path == "#/spec.experts.shards");
    }
}
