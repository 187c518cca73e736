using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Schema;
using DeepSeekOperator.Tests;

namespace DeepSeekOperator.DevCluster.Tests.Schema;

/// <summary>The project's own CRD through the emulator: its schema is accepted, its samples pass, and every invalid manifest fails at its field.</summary>
public sealed class DeepSeekModelCrdTests
{
    private const string SchemaPath = "spec.versions[0].schema.openAPIV3Schema";

    /// <summary>
    /// The invalid manifests whose rule is an <c>x-kubernetes-validations</c> rule: the stand-in for CEL fails the rule's
    /// node (where the rule is declared) so that these show the rule is evaluated there; the message is CEL's to write.
    /// </summary>
    private static readonly Dictionary<string, string> CelCases = new(StringComparer.Ordinal)
    {
        ["spec.autoscaling.interval.at-least-1s.yaml"] = "spec.autoscaling.interval",
        ["spec.autoscaling.prometheusUrl.required-when-enabled.yaml"] = "spec.autoscaling",
        ["spec.autoscaling.routers.min-not-above-max.yaml"] = "spec.autoscaling.routers",
        ["spec.autoscaling.shards.min-not-above-max.yaml"] = "spec.autoscaling.shards",
        ["spec.model.source.exactly-one.yaml"] = "spec.model.source",
        ["spec.model.source.hostPath.path.no-dotdot.yaml"] = "spec.model.source.hostPath",
        ["spec.model.source.pvc.subPath.no-dotdot.yaml"] = "spec.model.source.pvc",
        ["spec.placement.rebalanceInterval.at-least-1m.yaml"] = "spec.placement.rebalanceInterval",
        ["spec.placement.shardsPerNode.divides-shards.yaml"] = "spec",
    };

    private static readonly JsonObject Crd = YamlJson.Object(File.ReadAllText(Repository.PathOf("crds/deepseekmodels.moe.deepseek-operator.io.yaml")));

    private static JsonObject Schema => Crd["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.AsObject();

    private static string InvalidDirectory => Repository.PathOf("tests/DeepSeekOperator.Api.Tests/testdata/invalid");

    public static TheoryData<string> InvalidManifests() =>
        [.. Directory.GetFiles(InvalidDirectory, "*.yaml").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    public static TheoryData<string> Samples() =>
        [.. Directory.GetFiles(Repository.PathOf("config/samples"), "*.yaml").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    [Fact]
    public void CheckStructural_ProjectCrd_IsAcceptedAndEveryRuleNodeIsCompiled()
    {
        var rules = new RecordingRules();

        var errors = StructuralSchema.CheckStructural(Schema, SchemaPath, rules);

        Assert.Empty(errors);
        Assert.Contains(SchemaPath + ".properties[spec].properties[model].properties[source]", rules.Compiled);
        Assert.Contains(SchemaPath + ".properties[spec].properties[placement].properties[rebalanceInterval]", rules.Compiled);
        Assert.Contains(SchemaPath + ".properties[spec]", rules.Compiled);
        Assert.Equal(9, rules.Compiled.Count);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_AfterDefaulting_IsValidAndLosesNoField(string file)
    {
        var sample = YamlJson.Read(File.ReadAllText(Path.Combine(Repository.PathOf("config/samples"), file)));

        var pruned = SchemaPruning.Prune(sample, Schema);
        SchemaDefaulting.ApplyDefaults(sample, Schema);
        var errors = SchemaValidation.Validate(sample, null, Schema, new RecordingRules());

        Assert.Empty(pruned);
        Assert.Empty(errors);
    }

    [Theory]
    [MemberData(nameof(InvalidManifests))]
    public void InvalidManifest_IsRejectedAtItsField(string file)
    {
        var text = File.ReadAllText(Path.Combine(InvalidDirectory, file));
        var expected = text.Split('\n').Single(l => l.StartsWith("# error: ", StringComparison.Ordinal))["# error: ".Length..].TrimEnd('\r');
        var obj = YamlJson.Read(text);
        var rules = new RecordingRules();
        if (CelCases.TryGetValue(file, out var ruleNode))
        {
            rules.Failing.Add(ruleNode);
        }

        var pruned = SchemaPruning.Prune(obj, Schema);
        SchemaDefaulting.ApplyDefaults(obj, Schema);
        var errors = SchemaValidation.Validate(obj, null, Schema, rules).Select(e => e.ToString()).ToList();

        if (expected.StartsWith("unknown field ", StringComparison.Ordinal))
        {
            Assert.Equal([expected["unknown field \"".Length..^1]], pruned);
            Assert.Empty(errors);
        }
        else if (ruleNode is not null)
        {
            Assert.Equal([$"{ruleNode}: Invalid value: \"object\": failed"], errors);
        }
        else
        {
            // Kubernetes names a member of additionalProperties with a dot in schema errors (limits.memory); the
            // testdata writes it as the API package's own validator does, limits[memory].
            Assert.Contains(expected.Replace("limits[memory]", "limits.memory", StringComparison.Ordinal), errors);
        }
    }

    [Fact]
    public void Validate_StringWhereIntegerIsDeclared_ReportsTheTypeAndSkipsTheRules()
    {
        var obj = YamlJson.Read("""
            apiVersion: moe.deepseek-operator.io/v1alpha1
            kind: DeepSeekModel
            metadata: {name: m}
            spec:
              model: {source: {synthetic: {preset: tiny}}}
              experts: {shards: eight}
            """);
        var rules = new RecordingRules();

        var errors = SchemaValidation.Validate(obj, null, Schema, rules).Select(e => e.ToString());

        Assert.Equal(
            [
                "spec.experts.shards: Invalid value: \"string\": spec.experts.shards in body must be of type integer: \"string\"",
                "<nil>: Invalid value: \"null\": " + SchemaValidation.RulesNotCheckedMessage,
            ],
            errors);
        Assert.Empty(rules.Evaluated);
    }

    [Fact]
    public void ApplyDefaults_MinimalModel_GetsTheDefaultsOfEverySection()
    {
        var obj = YamlJson.Read("""
            apiVersion: moe.deepseek-operator.io/v1alpha1
            kind: DeepSeekModel
            metadata: {name: m}
            spec:
              model: {source: {synthetic: {}}}
            """);

        SchemaDefaulting.ApplyDefaults(obj, Schema);

        Assert.Equal("tiny", (string?)obj["spec"]!["model"]!["source"]!["synthetic"]!["preset"]);
        Assert.Equal(0, (long?)obj["spec"]!["model"]!["source"]!["synthetic"]!["seed"]);
        Assert.Equal("bfloat16", (string?)obj["spec"]!["model"]!["dtype"]);
        Assert.Equal("cuda", (string?)obj["spec"]!["runtime"]!["device"]);
        Assert.Equal(8000, (long?)obj["spec"]!["serving"]!["port"]);
        Assert.Equal("10m", (string?)obj["spec"]!["placement"]!["rebalanceInterval"]);
    }
}
