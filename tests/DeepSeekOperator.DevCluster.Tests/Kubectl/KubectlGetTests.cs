using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubectl;

public sealed class KubectlGetTests
{
    private static readonly TimeSpan LineTimeout = TimeSpan.FromSeconds(20);

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Get_DeepSeekModels_PrintsTheCrdsPrinterColumns()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.InstallCrdAsync();
        await cluster.RunOkAsync("apply", "-f", KubectlCluster.TinySamplePath);
        await Manifests.SetReadyStatusAsync(cluster.Client, "default", "tiny");

        var result = await cluster.RunOkAsync("get", "dsm");

        Assert.Equal(2, result.Lines.Length);
        Assert.Equal(["NAME", "READY", "ROUTERS", "SHARDS", "EXPERTS", "PLACEMENT", "IMBALANCE", "ENDPOINT", "AGE"], Words(result.Lines[0]));
        var row = Words(result.Lines[1]);
        Assert.Equal(["tiny", "True", "1", "4", "64", "http://tiny.default.svc:8000/v1"], row[..6]);
        Assert.Matches(@"^\d+s$", row[6]);
    }

    [Fact]
    public async Task GetJson_DeepSeekModel_ShowsTheSchemaDefaults()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.InstallCrdAsync();
        await cluster.RunOkAsync("apply", "-f", KubectlCluster.TinySamplePath);

        var result = await cluster.RunOkAsync("get", "deepseekmodel", "tiny", "-o", "json");

        var model = JsonNode.Parse(result.Output)!;
        Assert.Equal("DeepSeekModel", (string?)model["kind"]);
        Assert.False((bool)model["spec"]!["autoscaling"]!["enabled"]!);
        Assert.Equal(8, (int)model["spec"]!["autoscaling"]!["routers"]!["maxReplicas"]!);
        Assert.Equal(0, (int)model["spec"]!["experts"]!["redundantSlots"]!);
        Assert.Equal(4, (int)model["spec"]!["experts"]!["shards"]!);
    }

    [Fact]
    public async Task GetYaml_Deployment_ShowsTheBuiltInDefaults()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        var result = await cluster.RunOkAsync("get", "deployment", "web", "-o", "yaml");

        var deployment = KubernetesYaml.Deserialize<V1Deployment>(result.Output);
        Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
        Assert.Equal("25%", deployment.Spec.Strategy.RollingUpdate.MaxSurge.Value);
        Assert.Equal(10, deployment.Spec.RevisionHistoryLimit);
        Assert.Equal(600, deployment.Spec.ProgressDeadlineSeconds);
        Assert.All(deployment.Spec.Template.Spec.Containers, c => Assert.Equal("/dev/termination-log", c.TerminationMessagePath));
        Assert.Equal("ClusterFirst", deployment.Spec.Template.Spec.DnsPolicy);
        Assert.False(string.IsNullOrEmpty(deployment.Metadata.Uid));
    }

    [Fact]
    public async Task GetWide_Deployments_ShowsContainersImagesAndSelector()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment);

        var result = await cluster.RunOkAsync("get", "deploy", "-o", "wide");

        Assert.Equal(2, result.Lines.Length);
        Assert.Equal(["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"], Words(result.Lines[0]));
        var row = Words(result.Lines[1]);
        Assert.Equal(["web", "0/1", "0", "0"], row[..4]);
        Assert.Equal(["app,sidecar", "nginx:1.25,busybox:1.36", "app=web"], row[5..]);
    }

    [Fact]
    public async Task GetAll_ListsTheNamespacesWorkloadsAndServices()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        var ns = await cluster.CreateNamespaceAsync("shop");
        await cluster.ApplyAsync(Manifests.TwoContainerDeployment, "-n", ns);
        await cluster.ApplyAsync(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              selector: {app: web}
              ports: [{port: 80}]
            """,
            "-n",
            ns);

        var result = await cluster.RunOkAsync("get", "all", "-n", ns);

        Assert.Contains(result.Lines, l => l.StartsWith("service/web ", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("deployment.apps/web ", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Lines, l => l.Contains("Error", StringComparison.Ordinal));
        Assert.Empty(result.Error);
    }

    [Fact]
    public async Task Get_WithLabelSelector_ListsOnlyMatchingObjects()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        var ns = await cluster.CreateNamespaceAsync("labels");
        foreach (var (name, tier) in new[] { ("front", "web"), ("back", "db") })
        {
            await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(
                new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["tier"] = tier } } }, ns);
        }

        var matching = await cluster.RunOkAsync("get", "configmaps", "-n", ns, "-l", "tier=web", "-o", "name");
        var setBased = await cluster.RunOkAsync("get", "configmaps", "-n", ns, "-l", "tier in (web,db)", "-o", "name");
        var none = await cluster.RunOkAsync("get", "configmaps", "-n", ns, "-l", "tier=cache");

        Assert.Equal(["configmap/front"], matching.Lines);
        Assert.Equal(["configmap/back", "configmap/front"], setBased.Lines);
        Assert.Empty(none.Output);
        Assert.Equal("No resources found in labels namespace.", none.Error.Trim());
    }

    [Fact]
    public async Task GetWatch_ObjectCreatedWhileWatching_PrintsALineForIt()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        var ns = await cluster.CreateNamespaceAsync("watched");
        await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "before" } }, ns);
        using var watch = cluster.Kubectl.Start("get", "configmaps", "-n", ns, "--watch", "--request-timeout=30s");
        await watch.WaitForLineAsync(l => l.StartsWith("before ", StringComparison.Ordinal), LineTimeout);

        await cluster.Client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "after" }, Data = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" } }, ns);

        var line = await watch.WaitForLineAsync(l => l.StartsWith("after ", StringComparison.Ordinal), LineTimeout);
        Assert.Equal("2", Words(line)[1]);
    }
}
