using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Tests;
using k8s.Models;

namespace DeepSeekOperator.Controller.Tests.Children;

/// <summary>The repository's sample models as the reconciler would see them: defaulted, in a namespace, with a uid.</summary>
internal static class Samples
{
    public const string TinyFile = "config/samples/tiny-synthetic.yaml";
    public const string DeepSeekV3File = "config/samples/deepseek-v3.yaml";

    public static OperatorSettings Settings { get; } = new() { RuntimeImage = "registry.local/deepseek-operator/dsop:test" };

    /// <summary>A sample read with <see cref="DeepSeekModelManifest"/>; the tiny one has no namespace, so it gets <c>default</c>.</summary>
    public static DeepSeekModel Read(string file)
    {
        var result = DeepSeekModelManifest.Read(File.ReadAllText(Repository.PathOf(file)));
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var model = result.Model!;
        model.Metadata.NamespaceProperty ??= "default";
        model.Metadata.Uid = "6f0c1c2e-0000-4000-8000-" + file.Length.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);
        return model;
    }

    /// <summary>The architecture the reconciler passes: the preset's for a synthetic source, else DeepSeek-V3's (the defaults of <see cref="ModelConfig"/>).</summary>
    public static ModelConfig ConfigOf(DeepSeekModel model) => ModelChildren.PresetConfig(model.Spec.Model.Source) ?? new ModelConfig();

    public static ModelChildren Build(string file)
    {
        var model = Read(file);
        return ModelChildren.Build(model, ConfigOf(model), Settings);
    }

    /// <summary>Every child, the ServiceMonitor included.</summary>
    public static IEnumerable<k8s.IKubernetesObject<V1ObjectMeta>> All(ModelChildren children) => [.. children.BuiltIn, children.ServiceMonitor];

    public static IEnumerable<V1Deployment> Deployments(ModelChildren children) => [children.RouterDeployment, .. children.ShardDeployments];

    /// <summary>Whether every label of <paramref name="selector"/> is among <paramref name="labels"/>.</summary>
    public static bool Matches(IDictionary<string, string> selector, IDictionary<string, string> labels) =>
        selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);
}
