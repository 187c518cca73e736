using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Patching;
using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>The project's DeepSeekModel CRD and its tiny sample, installed as <c>kubectl apply -f crds/</c> would.</summary>
internal static class ProjectCrd
{
    public const string Group = "moe.deepseek-operator.io";
    public const string Version = "v1alpha1";
    public const string Plural = "deepseekmodels";
    public const string Name = Plural + "." + Group;

    public static Task<V1CustomResourceDefinition> LoadAsync() =>
        KubernetesYaml.LoadFromFileAsync<V1CustomResourceDefinition>(Repository.PathOf($"crds/{Name}.yaml"));

    /// <summary>Creates the CRD and waits until it is Established.</summary>
    public static async Task InstallAsync(Kubernetes client) => await InstallAsync(client, await LoadAsync());

    /// <summary>Creates <paramref name="crd"/> and waits until it is Established.</summary>
    public static async Task<V1CustomResourceDefinition> InstallAsync(Kubernetes client, V1CustomResourceDefinition crd)
    {
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
        return await Eventually.ReadAsync(
            () => client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name),
            c => c.Status?.Conditions?.Any(x => x is { Type: "Established", Status: "True" }) == true,
            $"{crd.Metadata.Name} becoming Established");
    }

    /// <summary>config/samples/tiny-synthetic.yaml, renamed.</summary>
    public static JsonObject Sample(string name)
    {
        var sample = ReadYaml("config/samples/tiny-synthetic.yaml");
        sample["metadata"]!["name"] = name;
        return sample;
    }

    /// <summary>A YAML manifest of the repository as the JSON object a client sends.</summary>
    public static JsonObject ReadYaml(string relativePath) => (JsonObject)ApplyPatchBody.Parse(File.ReadAllText(Repository.PathOf(relativePath)))!;
}
