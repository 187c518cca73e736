using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>Create, read, update and the errors of each, as kube-apiserver answers them.</summary>
public sealed class CrudTests : IAsyncLifetime
{
    private RunningApiServer running = null!;

    private Kubernetes Client => running.Client;

    public async Task InitializeAsync() => running = await RunningApiServer.StartAsync();

    public async Task DisposeAsync() => await running.DisposeAsync();

    [Fact]
    public async Task Create_SetsUidResourceVersionAndCreationTimestamp()
    {
        var before = DateTime.UtcNow.AddSeconds(-1);

        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");

        Assert.True(Guid.TryParse(created.Metadata.Uid, out _), $"uid {created.Metadata.Uid} is not a UUID");
        Assert.True(long.Parse(created.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.InRange(created.Metadata.CreationTimestamp!.Value, before, DateTime.UtcNow.AddSeconds(1));
        Assert.Equal("default", created.Metadata.NamespaceProperty);
        var read = await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default");
        Assert.Equal(created.Metadata.Uid, read.Metadata.Uid);
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Create_WithGenerateName_AppendsARandomSuffix()
    {
        var template = new V1ConfigMap { Metadata = new V1ObjectMeta { GenerateName = "job-" } };

        var first = await Client.CoreV1.CreateNamespacedConfigMapAsync(template, "default");
        var second = await Client.CoreV1.CreateNamespacedConfigMapAsync(template, "default");

        Assert.Matches("^job-[a-z0-9]{5}$", first.Metadata.Name);
        Assert.Matches("^job-[a-z0-9]{5}$", second.Metadata.Name);
        Assert.NotEqual(first.Metadata.Name, second.Metadata.Name);
        Assert.Equal("job-", first.Metadata.GenerateName);
    }

    [Fact]
    public async Task Create_WhenTheNameIsTaken_IsAlreadyExists()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");

        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default"));

        Assert.Equal(409, status.Code);
        Assert.Equal("AlreadyExists", status.Reason);
        Assert.Equal("configmaps \"settings\" already exists", status.Message);
        Assert.Equal("settings", status.Details.Name);
        Assert.Equal("configmaps", status.Details.Kind);
    }

    [Fact]
    public async Task Create_CarryingAResourceVersion_IsRefused()
    {
        var copied = Objects.ConfigMap("copied");
        copied.Metadata.ResourceVersion = "12345";

        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.CreateNamespacedConfigMapAsync(copied, "default"));

        Assert.Equal(500, status.Code);
        Assert.Equal("resourceVersion should not be set on objects to be created", status.Message);
        await Refusal.StatusOfAsync(() => Client.CoreV1.ReadNamespacedConfigMapAsync("copied", "default"));
    }

    [Fact]
    public async Task Replace_ThatChangesNothing_KeepsTheResourceVersion()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");

        var replaced = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "settings", "default");

        Assert.Equal(created.Metadata.ResourceVersion, replaced.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Create_InAMissingNamespace_IsNotFoundNamingTheNamespace()
    {
        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "nowhere"));

        Assert.Equal(404, status.Code);
        Assert.Equal("NotFound", status.Reason);
        Assert.Equal("namespaces \"nowhere\" not found", status.Message);
        Assert.Equal("namespaces", status.Details.Kind);
    }

    [Fact]
    public async Task Read_OfAMissingObject_IsNotFound()
    {
        var status = await Refusal.StatusOfAsync(() => Client.AppsV1.ReadNamespacedDeploymentAsync("absent", "default"));

        Assert.Equal(404, status.Code);
        Assert.Equal("NotFound", status.Reason);
        Assert.Equal("deployments.apps \"absent\" not found", status.Message);
        Assert.Equal("apps", status.Details.Group);
        Assert.Equal("deployments", status.Details.Kind);
    }

    [Fact]
    public async Task Replace_WithStaleResourceVersion_Conflicts()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
        var stale = created.Metadata.ResourceVersion;
        created.Data["key"] = "first";
        var updated = await Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "settings", "default");
        Assert.NotEqual(stale, updated.Metadata.ResourceVersion);

        created.Metadata.ResourceVersion = stale;
        created.Data["key"] = "second";
        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.ReplaceNamespacedConfigMapAsync(created, "settings", "default"));

        Assert.Equal(409, status.Code);
        Assert.Equal("Conflict", status.Reason);
        Assert.Contains("the object has been modified; please apply your changes to the latest version and try again", status.Message, StringComparison.Ordinal);
        Assert.Equal("first", (await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default")).Data["key"]);
    }

    [Fact]
    public async Task Replace_OfTheSpec_BumpsGenerationButMetadataAndStatusDoNot()
    {
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web"), "default");
        Assert.Equal(1, created.Metadata.Generation);

        created.Spec.Replicas = 3;
        var scaled = await Client.AppsV1.ReplaceNamespacedDeploymentAsync(created, "web", "default");
        Assert.Equal(2, scaled.Metadata.Generation);

        scaled.Metadata.Labels = new Dictionary<string, string> { ["tier"] = "frontend" };
        var labelled = await Client.AppsV1.ReplaceNamespacedDeploymentAsync(scaled, "web", "default");
        Assert.Equal(2, labelled.Metadata.Generation);
        Assert.NotEqual(scaled.Metadata.ResourceVersion, labelled.Metadata.ResourceVersion);

        labelled.Status = new V1DeploymentStatus { Replicas = 3, ObservedGeneration = 2 };
        var withStatus = await Client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(labelled, "web", "default");
        Assert.Equal(2, withStatus.Metadata.Generation);
        Assert.Equal(3, withStatus.Status.Replicas);
    }

    [Fact]
    public async Task Replace_OfTheMainResource_IgnoresStatus()
    {
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web"), "default");

        created.Spec.Replicas = 2;
        created.Status = new V1DeploymentStatus { Replicas = 99, ReadyReplicas = 99 };
        var updated = await Client.AppsV1.ReplaceNamespacedDeploymentAsync(created, "web", "default");

        Assert.Equal(2, updated.Spec.Replicas);
        Assert.NotEqual(99, updated.Status?.Replicas);
        Assert.NotEqual(99, (await Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default")).Status?.ReadyReplicas);
    }

    [Fact]
    public async Task ReplaceStatus_IgnoresSpecAndMetadataChanges()
    {
        var created = await Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web"), "default");

        created.Spec.Replicas = 7;
        created.Metadata.Labels = new Dictionary<string, string> { ["sneaky"] = "true" };
        created.Status = new V1DeploymentStatus { Replicas = 1, ReadyReplicas = 1 };
        var updated = await Client.AppsV1.ReplaceNamespacedDeploymentStatusAsync(created, "web", "default");

        Assert.Equal(1, updated.Status.ReadyReplicas);
        Assert.Equal(1, updated.Spec.Replicas);
        Assert.Null(updated.Metadata.Labels);
        Assert.Equal(1, updated.Metadata.Generation);
    }

    [Fact]
    public async Task Create_DeploymentWhoseSelectorMissesTheTemplateLabels_IsInvalid()
    {
        var deployment = Objects.Deployment("web");
        deployment.Spec.Selector.MatchLabels["app"] = "other";

        var status = await Refusal.StatusOfAsync(() => Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default"));

        Assert.Equal(422, status.Code);
        Assert.Equal("Invalid", status.Reason);
        Assert.Equal("Deployment", status.Details.Kind);
        Assert.Equal("web", status.Details.Name);
        var cause = Assert.Single(status.Details.Causes, c => c.Field == "spec.template.metadata.labels");
        Assert.Equal("FieldValueInvalid", cause.Reason);
        Assert.Contains("`selector` does not match template `labels`", cause.Message, StringComparison.Ordinal);
        Assert.StartsWith("Deployment.apps \"web\" is invalid:", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_ServiceWithoutPorts_IsInvalid()
    {
        var service = new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "api" },
            Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = "api" } },
        };

        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.CreateNamespacedServiceAsync(service, "default"));

        Assert.Equal(422, status.Code);
        Assert.Equal("Invalid", status.Reason);
        var cause = Assert.Single(status.Details.Causes);
        Assert.Equal("spec.ports", cause.Field);
        Assert.Equal("FieldValueRequired", cause.Reason);
        Assert.Equal("Service \"api\" is invalid: spec.ports: Required value", status.Message);
    }

    [Fact]
    public async Task Scale_OfADeployment_ReadsAndReplacesSpecReplicas()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web", replicas: 2), "default");

        var scale = await Client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", "default");
        Assert.Equal("Scale", scale.Kind);
        Assert.Equal("autoscaling/v1", scale.ApiVersion);
        Assert.Equal(2, scale.Spec.Replicas);

        scale.Spec.Replicas = 5;
        var replaced = await Client.AppsV1.ReplaceNamespacedDeploymentScaleAsync(scale, "web", "default");

        Assert.Equal(5, replaced.Spec.Replicas);
        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal(5, deployment.Spec.Replicas);
        Assert.Equal(2, deployment.Metadata.Generation);
    }

    [Fact]
    public async Task PatchScale_OfADeployment_ChangesSpecReplicas()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web", replicas: 2), "default");

        var scale = await Client.AppsV1.PatchNamespacedDeploymentScaleAsync(new V1Patch("""{"spec":{"replicas":4}}""", V1Patch.PatchType.MergePatch), "web", "default");

        Assert.Equal(4, scale.Spec.Replicas);
        Assert.Equal(4, (await Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default")).Spec.Replicas);
    }

    [Fact]
    public async Task ReplaceScale_WithStaleResourceVersion_Conflicts()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web", replicas: 2), "default");
        var scale = await Client.AppsV1.ReadNamespacedDeploymentScaleAsync("web", "default");
        var deployment = await Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        deployment.Spec.Replicas = 3;
        await Client.AppsV1.ReplaceNamespacedDeploymentAsync(deployment, "web", "default");

        scale.Spec.Replicas = 9;
        var status = await Refusal.StatusOfAsync(() => Client.AppsV1.ReplaceNamespacedDeploymentScaleAsync(scale, "web", "default"));

        Assert.Equal("Conflict", status.Reason);
        Assert.Equal(3, (await Client.AppsV1.ReadNamespacedDeploymentAsync("web", "default")).Spec.Replicas);
    }
}
