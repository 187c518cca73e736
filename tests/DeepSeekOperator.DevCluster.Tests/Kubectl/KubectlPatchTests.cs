using k8s;

namespace DeepSeekOperator.DevCluster.Tests.Kubectl;

public sealed class KubectlPatchTests
{
    [Fact]
    public async Task Patch_DefaultStrategicMerge_ChangesOneContainerByNameAndKeepsTheOther()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        var result = await cluster.RunOkAsync("patch", "deployment", "web", "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}}}""");

        Assert.Equal("deployment.apps/web patched", result.Output.Trim());
        var deployment = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal([("app", "nginx:1.27"), ("sidecar", "busybox:1.36")], deployment.Spec.Template.Spec.Containers.Select(c => (c.Name, c.Image)));
        Assert.Equal(2, deployment.Metadata.Generation);
    }

    [Fact]
    public async Task Patch_MergeType_AddsALabelAndKeepsTheOthers()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        await cluster.RunOkAsync("patch", "deployment", "web", "--type=merge", "-p", """{"metadata":{"labels":{"tier":"front"}}}""");

        var deployment = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "front" }, deployment.Metadata.Labels);
    }

    [Fact]
    public async Task Patch_MergeTypeOnContainers_ReplacesTheWholeList()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        await cluster.RunOkAsync("patch", "deployment", "web", "--type=merge", "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}}}}""");

        var deployment = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal("app", Assert.Single(deployment.Spec.Template.Spec.Containers).Name);
    }

    [Fact]
    public async Task Patch_JsonType_ReplacesTheReplicas()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        await cluster.RunOkAsync("patch", "deployment", "web", "--type=json", "-p", """[{"op":"replace","path":"/spec/replicas","value":2}]""");

        var deployment = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(2, deployment.Spec.Replicas);
    }

    [Fact]
    public async Task Patch_JsonTypeWithFailingTest_FailsAndChangesNothing()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);
        var before = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");

        var result = await cluster.RunAsync("patch", "deployment", "web", "--type=json", "-p", """[{"op":"test","path":"/spec/replicas","value":5},{"op":"replace","path":"/spec/replicas","value":2}]""");

        Assert.NotEqual(0, result.ExitCode);
        var after = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(before.Metadata.ResourceVersion, after.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Scale_Deployment_SpecReplicasFollows()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        var result = await cluster.RunOkAsync("scale", "deploy/web", "--replicas=3");

        Assert.Equal("deployment.apps/web scaled", result.Output.Trim());
        var deployment = await cluster.Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(3, deployment.Spec.Replicas);
    }
}
