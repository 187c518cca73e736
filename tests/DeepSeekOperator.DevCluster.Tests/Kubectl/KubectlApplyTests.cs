using System.Text.Json;
using k8s;

namespace DeepSeekOperator.DevCluster.Tests.Kubectl;

public sealed class KubectlApplyTests
{
    [Fact]
    public async Task Apply_ProjectCrdThenSample_CreatesBothWithTheLastAppliedAnnotation()
    {
        await using var cluster = await KubectlCluster.StartAsync();

        var crd = await cluster.RunOkAsync("apply", "-f", KubectlCluster.CrdPath);
        await cluster.RunOkAsync("wait", "--for=condition=Established", "crd/deepseekmodels.moe.deepseek-operator.io", "--timeout=20s");
        var sample = await cluster.RunOkAsync("apply", "-f", KubectlCluster.TinySamplePath);

        Assert.Equal("customresourcedefinition.apiextensions.k8s.io/deepseekmodels.moe.deepseek-operator.io created", crd.Output.Trim());
        Assert.Equal("deepseekmodel.moe.deepseek-operator.io/tiny created", sample.Output.Trim());
        var stored = (JsonElement)await cluster.Client.CustomObjects.GetNamespacedCustomObjectAsync("moe.deepseek-operator.io", "v1alpha1", "default", "deepseekmodels", "tiny");
        var lastApplied = stored.GetProperty("metadata").GetProperty("annotations").GetProperty("kubectl.kubernetes.io/last-applied-configuration").GetString();
        Assert.Contains("\"preset\":\"tiny\"", lastApplied, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyServerSide_Sample_IsCreatedAndManagedByKubectl()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.InstallCrdAsync();

        var result = await cluster.RunOkAsync("apply", "--server-side", "-f", KubectlCluster.TinySamplePath);

        Assert.Equal("deepseekmodel.moe.deepseek-operator.io/tiny serverside-applied", result.Output.Trim());
        var stored = (JsonElement)await cluster.Client.CustomObjects.GetNamespacedCustomObjectAsync("moe.deepseek-operator.io", "v1alpha1", "default", "deepseekmodels", "tiny");
        var managers = stored.GetProperty("metadata").GetProperty("managedFields").EnumerateArray()
            .Select(m => (m.GetProperty("manager").GetString(), m.GetProperty("operation").GetString()));
        Assert.Contains(("kubectl", "Apply"), managers);
        Assert.Equal(4, stored.GetProperty("spec").GetProperty("experts").GetProperty("shards").GetInt32());
    }

    [Fact]
    public async Task ApplyServerSide_ChangedManifest_UpdatesTheField()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment, "--server-side");

        var result = await cluster.Kubectl.RunWithInputAsync(Manifests.TwoContainerDeployment.Replace("replicas: 1", "replicas: 2", StringComparison.Ordinal), "apply", "--server-side", "-f", "-");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("deployment.apps/web serverside-applied", result.Output.Trim());
        var deployment = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(2, deployment.Spec.Replicas);
    }

    [Fact]
    public async Task Apply_SameManifestTwice_SecondTimeIsUnchanged()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);
        var before = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");

        var second = await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        Assert.Equal("deployment.apps/web unchanged", second.Output.Trim());
        var after = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(before.Metadata.ResourceVersion, after.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Apply_ChangedManifest_IsConfigured()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        var second = await cluster.ApplyAsync(Manifests.TwoContainerDeployment.Replace("nginx:1.25", "nginx:1.27", StringComparison.Ordinal));

        Assert.Equal("deployment.apps/web configured", second.Output.Trim());
        var deployment = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(["nginx:1.27", "busybox:1.36"], deployment.Spec.Template.Spec.Containers.Select(c => c.Image));
    }

    [Fact]
    public async Task Replace_DeploymentWithoutTheDefaultedFields_DefaultsThemAgain()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment.Replace("replicas: 1", "replicas: 3", StringComparison.Ordinal));
        const string Bare = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              selector:
                matchLabels: {app: web}
              template:
                metadata:
                  labels: {app: web}
                spec:
                  containers: [{name: app, image: nginx:1.27}]
            """;

        var result = await cluster.Kubectl.RunWithInputAsync(Bare, "replace", "-f", "-");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("deployment.apps/web replaced", result.Output.Trim());
        var deployment = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal("RollingUpdate", deployment.Spec.Strategy?.Type);
        Assert.Equal("25%", deployment.Spec.Strategy?.RollingUpdate?.MaxUnavailable?.Value);
        Assert.Equal(10, deployment.Spec.RevisionHistoryLimit);
        Assert.Equal(600, deployment.Spec.ProgressDeadlineSeconds);
    }

    [Fact]
    public async Task ApiResources_AfterTheCrd_ListsItsResourceWithTheShortName()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.InstallCrdAsync();

        var result = await cluster.RunOkAsync("api-resources");

        var row = Assert.Single(result.Lines, l => l.StartsWith("deepseekmodels ", StringComparison.Ordinal));
        Assert.Equal(["deepseekmodels", "dsm", "moe.deepseek-operator.io/v1alpha1", "true", "DeepSeekModel"], row.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(result.Lines, l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["deployments", "deploy", "apps/v1", "true", "Deployment"]);
    }

    [Fact]
    public async Task Version_ShowsTheServerVersion()
    {
        await using var cluster = await KubectlCluster.StartAsync();

        var result = await cluster.RunOkAsync("version");

        Assert.Matches(@"(?m)^Server Version: v1\.\d+\.\d+", result.Output);
    }

    [Fact]
    public async Task CreateNamespace_WithKubectl_CreatesIt()
    {
        await using var cluster = await KubectlCluster.StartAsync();

        var result = await cluster.RunOkAsync("create", "namespace", "x");

        Assert.Equal("namespace/x created", result.Output.Trim());
        var created = await cluster.Client.CoreV1.ReadNamespaceAsync("x");
        Assert.Equal("Active", created.Status.Phase);
    }
}
