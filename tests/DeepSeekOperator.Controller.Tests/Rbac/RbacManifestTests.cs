using DeepSeekOperator.Controller.Rbac;
using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Controller.Tests.Rbac;

/// <summary>The checked-in <c>config/</c> against its generators, and <c>kubectl kustomize config/default</c>.</summary>
public sealed class RbacManifestTests
{
    private const string CrdFile = "deepseekmodels.moe.deepseek-operator.io.yaml";

    [Fact]
    public void ConfigRbac_EqualsTheGeneratedFiles_RunMakeManifestsOnChange()
    {
        var generated = OperatorRbac.Files();
        var directory = Repository.PathOf("config/rbac");

        Assert.Equal(generated.Select(file => file.Name).Order(), Directory.GetFiles(directory).Select(Path.GetFileName).Order());
        Assert.All(generated, file => Assert.Equal(file.Content, File.ReadAllText(Path.Combine(directory, file.Name))));
    }

    [Fact]
    public void ConfigCrd_SameFileAsCrds_RunMakeManifestsOnChange()
    {
        Assert.Equal(File.ReadAllText(Repository.PathOf("crds/" + CrdFile)), File.ReadAllText(Repository.PathOf("config/crd/" + CrdFile)));
    }

    [Fact]
    public async Task KustomizeConfigDefault_Builds_EveryKindInTheOperatorNamespace()
    {
        var kubectl = await ToolProcess.RunAsync(KubectlPath(), ["kustomize", Repository.PathOf("config/default")]);

        Assert.True(kubectl.ExitCode == 0, kubectl.Error);
        var documents = kubectl.Output.Split("\n---\n").Select(document => document.TrimEnd('\n') + "\n").ToList();
        string[] kinds = ["Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "ConfigMap", "ConfigMap", "ConfigMap"];
        Assert.Equal(kinds.Order(), documents.Select(Kind).Order());
        Assert.All(
            documents.Where(d => Kind(d) is "ServiceAccount" or "Role" or "RoleBinding" or "Deployment" or "Service" or "PodDisruptionBudget" or "NetworkPolicy"),
            d => Assert.Contains("  namespace: " + OperatorRbac.Namespace + "\n", d, StringComparison.Ordinal));
        var deployment = documents.Single(d => Kind(d) == "Deployment");
        Assert.Contains("serviceAccountName: " + OperatorRbac.Name + "\n", deployment, StringComparison.Ordinal);
        Assert.Contains("replicas: 2\n", deployment, StringComparison.Ordinal);
    }

    // kubectl from the PATH; a machine without it fails the test rather than skipping it, so a missing install shows.
    private static string KubectlPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "kubectl"))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("kubectl is not on the PATH, so config/default cannot be built: install kubectl (1.32 or later), as CI's machines have it");

    private static string Kind(string document) =>
        document.Split('\n').Single(line => line.StartsWith("kind: ", StringComparison.Ordinal))["kind: ".Length..];
}
