using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>JSON merge, JSON and strategic merge patches, and server-side apply with field ownership.</summary>
public sealed class PatchTests : IAsyncLifetime
{
    private RunningApiServer running = null!;

    private Kubernetes Client => running.Client;

    public async Task InitializeAsync() => running = await RunningApiServer.StartAsync();

    public async Task DisposeAsync() => await running.DisposeAsync();

    [Fact]
    public async Task MergePatch_SetsAndRemovesKeys()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(
            Objects.ConfigMap("settings", data: new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }), "default");

        var patched = await Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"data":{"a":"10","b":null,"c":"3"}}""", V1Patch.PatchType.MergePatch), "settings", "default");

        Assert.Equal(new Dictionary<string, string> { ["a"] = "10", ["c"] = "3" }, patched.Data);
    }

    [Fact]
    public async Task MergePatch_OfAList_ReplacesTheWholeList()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web"), "default");

        var patched = await Client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:1.31"}]}}}}""", V1Patch.PatchType.MergePatch),
            "web", "default");

        Assert.Equal(["sidecar"], patched.Spec.Template.Spec.Containers.Select(c => c.Name));
    }

    [Fact]
    public async Task StrategicMergePatch_OfContainers_MergesByName()
    {
        await Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web"), "default");

        var patched = await Client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch(
                """{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"envoy:1.31"},{"name":"web","image":"nginx:1.28"}]}}}}""",
                V1Patch.PatchType.StrategicMergePatch),
            "web", "default");

        var containers = patched.Spec.Template.Spec.Containers.ToDictionary(c => c.Name, c => c.Image);
        Assert.Equal(new Dictionary<string, string> { ["web"] = "nginx:1.28", ["sidecar"] = "envoy:1.31" }, containers);
        Assert.Equal(2, patched.Metadata.Generation);
    }

    [Fact]
    public async Task StrategicMergePatch_WithDeleteDirective_RemovesOneContainer()
    {
        var deployment = Objects.Deployment("web");
        deployment.Spec.Template.Spec.Containers.Add(new V1Container { Name = "sidecar", Image = "envoy:1.31" });
        await Client.AppsV1.CreateNamespacedDeploymentAsync(deployment, "default");

        var patched = await Client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch("""{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}""", V1Patch.PatchType.StrategicMergePatch),
            "web", "default");

        Assert.Equal(["web"], patched.Spec.Template.Spec.Containers.Select(c => c.Name));
    }

    [Fact]
    public async Task JsonPatch_AppliesOperationsInOrder()
    {
        await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings", data: new Dictionary<string, string> { ["a"] = "1" }), "default");

        var patched = await Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch(
                """[{"op":"test","path":"/data/a","value":"1"},{"op":"add","path":"/data/b","value":"2"},{"op":"remove","path":"/data/a"}]""",
                V1Patch.PatchType.JsonPatch),
            "settings", "default");

        Assert.Equal(new Dictionary<string, string> { ["b"] = "2" }, patched.Data);
    }

    [Fact]
    public async Task JsonPatch_WhoseTestFails_IsRejectedAndChangesNothing()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings", data: new Dictionary<string, string> { ["a"] = "1" }), "default");

        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""[{"op":"test","path":"/data/a","value":"2"},{"op":"remove","path":"/data/a"}]""", V1Patch.PatchType.JsonPatch),
            "settings", "default"));

        Assert.Equal(422, status.Code);
        var read = await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default");
        Assert.Equal(created.Metadata.ResourceVersion, read.Metadata.ResourceVersion);
        Assert.Equal("1", read.Data["a"]);
    }

    [Fact]
    public async Task MergePatch_WithStaleResourceVersion_Conflicts()
    {
        var created = await Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
        await Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch("""{"data":{"key":"changed"}}""", V1Patch.PatchType.MergePatch), "settings", "default");

        var status = await Refusal.StatusOfAsync(() => Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch($$$"""{"metadata":{"resourceVersion":"{{{created.Metadata.ResourceVersion}}}"},"data":{"key":"late"}}""", V1Patch.PatchType.MergePatch),
            "settings", "default"));

        Assert.Equal("Conflict", status.Reason);
        Assert.Equal("changed", (await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default")).Data["key"]);
    }

    [Fact]
    public async Task Apply_OfAMissingObject_CreatesItOwnedByTheManager()
    {
        var applied = await ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"fast"}}""", "alice");

        Assert.Equal("fast", applied.Data["mode"]);
        var entry = Assert.Single(applied.Metadata.ManagedFields);
        Assert.Equal("alice", entry.Manager);
        Assert.Equal("Apply", entry.Operation);
        Assert.Equal("v1", entry.ApiVersion);
        Assert.Contains("\"f:mode\"", KubernetesJson.Serialize(entry.FieldsV1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_BySecondManagerOfAnOwnedField_ConflictsNamingTheField()
    {
        await ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"fast"}}""", "alice");

        var status = await Refusal.StatusOfAsync(
            () => ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"safe"}}""", "bob"));

        Assert.Equal(409, status.Code);
        Assert.Equal("Conflict", status.Reason);
        var cause = Assert.Single(status.Details.Causes);
        Assert.Equal("FieldManagerConflict", cause.Reason);
        Assert.Equal(".data.mode", cause.Field);
        Assert.Equal("conflict with \"alice\"", cause.Message);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"alice\": .data.mode", status.Message);
        Assert.Equal("fast", (await Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default")).Data["mode"]);
    }

    [Fact]
    public async Task Apply_WithForce_MovesOwnershipAndBothManagersAreListed()
    {
        await ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"fast","owner":"alice"}}""", "alice");

        var forced = await ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"mode":"safe"}}""", "bob", force: true);

        Assert.Equal(new Dictionary<string, string> { ["mode"] = "safe", ["owner"] = "alice" }, forced.Data);
        var managers = forced.Metadata.ManagedFields.ToDictionary(e => e.Manager, e => KubernetesJson.Serialize(e.FieldsV1));
        Assert.Equal(["alice", "bob"], managers.Keys.Order());
        Assert.Contains("\"f:mode\"", managers["bob"], StringComparison.Ordinal);
        Assert.DoesNotContain("\"f:mode\"", managers["alice"], StringComparison.Ordinal);
        Assert.Contains("\"f:owner\"", managers["alice"], StringComparison.Ordinal);

        var again = await ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"owner":"alice"}}""", "alice");
        Assert.Equal("safe", again.Data["mode"]);
    }

    [Fact]
    public async Task Apply_DroppingAFieldTheManagerAloneOwned_RemovesIt()
    {
        await ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"1","b":"2"}}""", "alice");

        var applied = await ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"1"}}""", "alice");

        Assert.Equal(new Dictionary<string, string> { ["a"] = "1" }, applied.Data);
    }

    [Fact]
    public async Task Update_AfterApply_RecordsAnUpdateManager()
    {
        await ApplyAsync("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"1"}}""", "alice");

        var patched = await Client.CoreV1.PatchNamespacedConfigMapAsync(
            new V1Patch("""{"data":{"b":"2"}}""", V1Patch.PatchType.MergePatch), "settings", "default", fieldManager: "kubectl-edit");

        var update = Assert.Single(patched.Metadata.ManagedFields, e => e.Manager == "kubectl-edit");
        Assert.Equal("Update", update.Operation);
        Assert.Contains("\"f:b\"", KubernetesJson.Serialize(update.FieldsV1), StringComparison.Ordinal);
        Assert.Contains(patched.Metadata.ManagedFields, e => e is { Manager: "alice", Operation: "Apply" });
    }

    private Task<V1ConfigMap> ApplyAsync(string body, string manager, bool force = false) =>
        Client.CoreV1.PatchNamespacedConfigMapAsync(new V1Patch(body, V1Patch.PatchType.ApplyPatch), "settings", "default", fieldManager: manager, force: force);
}
