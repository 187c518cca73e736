using DeepSeekOperator.Api.Schema;
using DeepSeekOperator.Api.V1Alpha1;

namespace DeepSeekOperator.Api.Tests;

public class ManifestReaderTests
{
    private const string Spec = "spec:\n  model:\n    source:\n      synthetic: {}\n";

    private static IReadOnlyList<string> Errors(string yaml) => [.. DeepSeekModelManifest.Read(yaml).Errors.Select(e => e.ToString())];

    [Fact]
    public void WrongApiVersionAndKind_AreNamed()
    {
        var errors = Errors("apiVersion: moe.deepseek-operator.io/v1\nkind: DeepSeekModle\nmetadata: {name: a}\n" + Spec);
        Assert.Contains("apiVersion: Unsupported value: \"moe.deepseek-operator.io/v1\": supported values: \"moe.deepseek-operator.io/v1alpha1\"", errors);
        Assert.Contains("kind: Unsupported value: \"DeepSeekModle\": supported values: \"DeepSeekModel\"", errors);
    }

    [Fact]
    public void MisspeltMetadataField_IsAnUnknownField()
    {
        var errors = Errors("apiVersion: moe.deepseek-operator.io/v1alpha1\nkind: DeepSeekModel\nmetadata: {name: a, lables: {x: y}}\n" + Spec);
        Assert.Equal(["unknown field \"metadata.lables\""], errors);
    }

    [Fact]
    public void MissingName_IsRequired()
    {
        var errors = Errors("apiVersion: moe.deepseek-operator.io/v1alpha1\nkind: DeepSeekModel\nmetadata: {namespace: models}\n" + Spec);
        Assert.Equal(["metadata.name: Required value: name or generateName is required"], errors);
    }

    [Fact]
    public void GenerateName_StandsInForName()
    {
        Assert.Empty(Errors("apiVersion: moe.deepseek-operator.io/v1alpha1\nkind: DeepSeekModel\nmetadata: {generateName: tiny-}\n" + Spec));
    }

    [Fact]
    public void EveryError_IsReportedAtOnce()
    {
        var errors = Errors("apiVersion: moe.deepseek-operator.io/v1alpha1\nkind: DeepSeekModel\nmetadata: {name: a}\n" + Spec +
                            "  experts: {shards: 0, redundantSlots: 300}\n  serving: {port: 70000}\n");
        Assert.Equal(3, errors.Count);
    }

    [Theory]
    [InlineData("spec: [unclosed", "line 2, column 1")]
    [InlineData("a: 1\na: 2", "line 2, column 1: Duplicate key a")]
    public void NotYaml_FailsWithTheLine(string yaml, string expected)
    {
        var error = Assert.Throws<FormatException>(() => DeepSeekModelManifest.Read(yaml));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QuotedNumber_IsAStringAndRejectedWhereAnIntegerIsExpected()
    {
        var errors = Errors("apiVersion: moe.deepseek-operator.io/v1alpha1\nkind: DeepSeekModel\nmetadata: {name: a}\n" + Spec + "  router: {replicas: \"2\"}\n");
        Assert.Equal(["spec.router.replicas: Invalid value: \"string\": spec.router.replicas in body must be of type integer: \"string\""], errors);
    }

    [Fact]
    public void ReadAll_ReadsEveryDocument()
    {
        var doc = "apiVersion: moe.deepseek-operator.io/v1alpha1\nkind: DeepSeekModel\nmetadata: {name: NAME}\n" + Spec;
        var results = DeepSeekModelManifest.ReadAll(doc.Replace("NAME", "a", StringComparison.Ordinal) + "---\n" + doc.Replace("NAME", "b", StringComparison.Ordinal));
        Assert.Equal(["a", "b"], results.Select(r => r.Model!.Metadata.Name));
    }

    [Fact]
    public void Validate_TypedObjectBuiltInCode_AppliesTheCrossFieldRules()
    {
        var model = new DeepSeekModel
        {
            Metadata = new() { Name = "coded" },
            Spec = new DeepSeekModelSpec
            {
                Model = new ModelSpec { Source = new ModelSource { Synthetic = new SyntheticSource(), HostPath = new HostPathSource { Path = "/models" } } },
                Autoscaling = new AutoscalingSpec { Enabled = true, Interval = "90s" },
            },
        };
        Assert.Equal(
            [
                "spec.model.source: Invalid value: \"object\": exactly one of pvc, hostPath, image or synthetic must be set",
                "spec.autoscaling.prometheusUrl: Invalid value: \"object\": prometheusUrl is required when autoscaling is enabled",
            ],
            DeepSeekModelManifest.Validate(model).Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("15s", 15_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("500ms", 500)]
    [InlineData("2h45m", 9_900_000)]
    [InlineData("1500us", 1.5)]
    [InlineData("2000000ns", 2)]
    public void GoDuration_ParsesWhatGoParses(string text, double milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value), text);
        Assert.Equal(milliseconds, value.TotalMilliseconds, 6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("15")]
    [InlineData("s")]
    [InlineData("1.s")]
    [InlineData(".5s")]
    [InlineData("-1s")]
    [InlineData("15x")]
    [InlineData("1s ")]
    [InlineData("99999999999h")]
    public void GoDuration_RejectsWhatIsNotADuration(string text)
    {
        Assert.False(GoDuration.TryParse(text, out _));
        Assert.Contains($"\"{text}\"", Assert.Throws<FormatException>(() => GoDuration.Parse(text)).Message, StringComparison.Ordinal);
    }
}
