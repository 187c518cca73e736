using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>CustomResourceDefinitions and their objects: establishment, CRUD, status, schema and CEL admission, versions, scope and removal.</summary>
public sealed class CustomResourceTests : IAsyncLifetime
{
    private const string Group = ProjectCrd.Group;
    private const string Version = ProjectCrd.Version;
    private const string Plural = ProjectCrd.Plural;
    private RunningApiServer running = null!;

    private Kubernetes Client => running.Client;

    public async Task InitializeAsync() => running = await RunningApiServer.StartAsync();

    public async Task DisposeAsync() => await running.DisposeAsync();

    [Fact]
    public async Task Create_ProjectCrd_BecomesEstablishedAndServesItsResource()
    {
        await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(await ProjectCrd.LoadAsync());

        var established = await Eventually.ReadAsync(
            () => Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("deepseekmodels.moe.deepseek-operator.io"),
            c => c.Status?.Conditions?.Any(x => x is { Type: "Established", Status: "True" }) == true,
            "the CRD becoming Established");
        Assert.Contains(established.Status.Conditions, c => c is { Type: "NamesAccepted", Status: "True" });
        Assert.Equal(["v1alpha1"], established.Status.StoredVersions);
        Assert.Equal("DeepSeekModel", established.Status.AcceptedNames.Kind);
        var resources = await Client.CustomObjects.GetAPIResourcesAsync(Group, Version);
        var served = Assert.Single(resources.Resources, r => r.Name == Plural);
        Assert.True(served.Namespaced);
        Assert.Contains(resources.Resources, r => r.Name == "deepseekmodels/status");
        var list = await Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>(Group, Version, "default", Plural);
        Assert.Empty(list["items"]!.AsArray());
    }

    [Fact]
    public async Task CustomObject_CreateGetListPatchDelete_BehaveAsForBuiltInKinds()
    {
        await ProjectCrd.InstallAsync(Client);

        var created = await Client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonObject>(ProjectCrd.Sample("tiny"), Group, Version, "default", Plural);
        Assert.True(Guid.TryParse(created["metadata"]!["uid"]!.GetValue<string>(), out _));
        Assert.Equal(1, created["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal($"{Group}/{Version}", created["apiVersion"]!.GetValue<string>());

        var read = await Client.CustomObjects.GetNamespacedCustomObjectAsync<JsonObject>(Group, Version, "default", Plural, "tiny");
        Assert.Equal(4, read["spec"]!["experts"]!["shards"]!.GetValue<int>());
        var list = await Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>(Group, Version, "default", Plural);
        Assert.Equal(["tiny"], list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));

        var patched = await Client.CustomObjects.PatchNamespacedCustomObjectAsync<JsonObject>(
            new V1Patch("""{"spec":{"experts":{"shards":8}}}""", V1Patch.PatchType.MergePatch), Group, Version, "default", Plural, "tiny");
        Assert.Equal(8, patched["spec"]!["experts"]!["shards"]!.GetValue<int>());
        Assert.Equal(2, patched["metadata"]!["generation"]!.GetValue<long>());

        var again = await Refusal.StatusOfAsync(() => Client.CustomObjects.CreateNamespacedCustomObjectAsync(ProjectCrd.Sample("tiny"), Group, Version, "default", Plural));
        Assert.Equal("AlreadyExists", again.Reason);
        Assert.Equal($"deepseekmodels.{Group} \"tiny\" already exists", again.Message);

        await Client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, "default", Plural, "tiny");
        var gone = await Refusal.StatusOfAsync(() => Client.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, "default", Plural, "tiny"));
        Assert.Equal("NotFound", gone.Reason);
        Assert.Equal($"deepseekmodels.{Group} \"tiny\" not found", gone.Message);
    }

    [Fact]
    public async Task CustomObject_StatusSubresource_SeparatesSpecFromStatus()
    {
        await ProjectCrd.InstallAsync(Client);
        var withStatus = ProjectCrd.Sample("tiny");
        withStatus["status"] = new JsonObject { ["phase"] = "Ready" };
        var created = await Client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonObject>(withStatus, Group, Version, "default", Plural);
        Assert.Null(created["status"]);

        var statusPatched = await Client.CustomObjects.PatchNamespacedCustomObjectStatusAsync<JsonObject>(
            new V1Patch("""{"spec":{"experts":{"shards":2}},"status":{"phase":"Pending","observedGeneration":1}}""", V1Patch.PatchType.MergePatch),
            Group, Version, "default", Plural, "tiny");
        Assert.Equal("Pending", statusPatched["status"]!["phase"]!.GetValue<string>());
        Assert.Equal(4, statusPatched["spec"]!["experts"]!["shards"]!.GetValue<int>());
        Assert.Equal(1, statusPatched["metadata"]!["generation"]!.GetValue<long>());

        var replacement = (JsonObject)statusPatched.DeepClone();
        replacement["spec"]!["experts"]!["shards"] = 6;
        replacement["status"]!["phase"] = "Overwritten";
        var replaced = await Client.CustomObjects.ReplaceNamespacedCustomObjectAsync<JsonObject>(replacement, Group, Version, "default", Plural, "tiny");

        Assert.Equal(6, replaced["spec"]!["experts"]!["shards"]!.GetValue<int>());
        Assert.Equal("Pending", replaced["status"]!["phase"]!.GetValue<string>());
        Assert.Equal(2, replaced["metadata"]!["generation"]!.GetValue<long>());
    }

    [Fact]
    public async Task CustomObject_ReplaceWithStaleResourceVersion_Conflicts()
    {
        await ProjectCrd.InstallAsync(Client);
        var created = await Client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonObject>(ProjectCrd.Sample("tiny"), Group, Version, "default", Plural);
        await Client.CustomObjects.PatchNamespacedCustomObjectAsync<JsonObject>(
            new V1Patch("""{"metadata":{"labels":{"touched":"yes"}}}""", V1Patch.PatchType.MergePatch), Group, Version, "default", Plural, "tiny");

        var status = await Refusal.StatusOfAsync(() => Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(created, Group, Version, "default", Plural, "tiny"));

        Assert.Equal(409, status.Code);
        Assert.Equal("Conflict", status.Reason);
    }

    [Fact]
    public async Task Create_CrdWithARuleThatDoesNotCompile_IsInvalidNamingTheRule()
    {
        var crd = Widgets("Namespaced", ("v1", true));
        crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].XKubernetesValidations =
            [new V1ValidationRule { Rule = "self.size > self.missing", Message = "size must exceed missing" }];

        var status = await Refusal.StatusOfAsync(() => Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd));

        Assert.Equal(422, status.Code);
        Assert.Equal("Invalid", status.Reason);
        var cause = Assert.Single(status.Details.Causes);
        Assert.Equal("spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule", cause.Field);
        Assert.Contains("compilation failed", cause.Message, StringComparison.Ordinal);
        Assert.Contains("missing", cause.Message, StringComparison.Ordinal);
        await Refusal.StatusOfAsync(() => Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("widgets.example.com"));
    }

    [Fact]
    public async Task CustomObject_OfAMultiVersionCrd_IsReadableAtEveryServedVersion()
    {
        await ProjectCrd.InstallAsync(Client, Widgets("Namespaced", ("v1beta1", false), ("v1", true)));

        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Widget("example.com/v1beta1", "gear", 3), "example.com", "v1beta1", "default", "widgets");

        var atV1 = await Client.CustomObjects.GetNamespacedCustomObjectAsync<JsonObject>("example.com", "v1", "default", "widgets", "gear");
        var atBeta = await Client.CustomObjects.GetNamespacedCustomObjectAsync<JsonObject>("example.com", "v1beta1", "default", "widgets", "gear");
        var listAtBeta = await Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>("example.com", "v1beta1", "default", "widgets");
        Assert.Equal("example.com/v1", atV1["apiVersion"]!.GetValue<string>());
        Assert.Equal("example.com/v1beta1", atBeta["apiVersion"]!.GetValue<string>());
        Assert.Equal("example.com/v1beta1", listAtBeta["items"]![0]!["apiVersion"]!.GetValue<string>());
        Assert.Equal(3, atV1["spec"]!["size"]!.GetValue<int>());
        Assert.Equal(atV1["metadata"]!["uid"]!.GetValue<string>(), atBeta["metadata"]!["uid"]!.GetValue<string>());
        var crd = await Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("widgets.example.com");
        Assert.Equal(["v1"], crd.Status.StoredVersions);
    }

    [Fact]
    public async Task Watch_OfAMultiVersionCrd_DeliversObjectsAtTheWatchedVersion()
    {
        await ProjectCrd.InstallAsync(Client, Widgets("Namespaced", ("v1beta1", false), ("v1", true)));
        var start = await Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>("example.com", "v1beta1", "default", "widgets");
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(Widget("example.com/v1", "gear", 3), "example.com", "v1", "default", "widgets");

        await using var watch = WatchEvents<object>.Start((onError, token) =>
            Client.CustomObjects.WatchListNamespacedCustomObjectAsync(
                "example.com", "v1beta1", "default", "widgets", resourceVersion: start["metadata"]!["resourceVersion"]!.GetValue<string>(), onError: onError, cancellationToken: token));
        var (type, item) = await watch.NextAsync();

        var widget = JsonNode.Parse(KubernetesJson.Serialize(item))!;
        Assert.Equal(WatchEventType.Added, type);
        Assert.Equal("example.com/v1beta1", widget["apiVersion"]!.GetValue<string>());
        Assert.Equal(3, widget["spec"]!["size"]!.GetValue<int>());
    }

    [Fact]
    public async Task CustomObject_MetadataOnlyChange_KeepsTheGeneration()
    {
        await ProjectCrd.InstallAsync(Client);
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(ProjectCrd.Sample("tiny"), Group, Version, "default", Plural);

        var labelled = await Client.CustomObjects.PatchNamespacedCustomObjectAsync<JsonObject>(
            new V1Patch("""{"metadata":{"labels":{"team":"inference"},"annotations":{"note":"x"}}}""", V1Patch.PatchType.MergePatch),
            Group, Version, "default", Plural, "tiny");

        Assert.Equal(1, labelled["metadata"]!["generation"]!.GetValue<long>());
        Assert.Equal("inference", labelled["metadata"]!["labels"]!["team"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeleteCollection_OfCustomObjectsWithLabelSelector_DeletesOnlyTheMatchingOnes()
    {
        await ProjectCrd.InstallAsync(Client);
        foreach (var (name, tier) in new[] { ("a", "test"), ("b", "test"), ("c", "prod") })
        {
            var model = ProjectCrd.Sample(name);
            model["metadata"]!["labels"] = new JsonObject { ["tier"] = tier };
            await Client.CustomObjects.CreateNamespacedCustomObjectAsync(model, Group, Version, "default", Plural);
        }

        await Client.CustomObjects.DeleteCollectionNamespacedCustomObjectAsync(Group, Version, "default", Plural, labelSelector: "tier=test");

        var left = await Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonObject>(Group, Version, "default", Plural);
        Assert.Equal(["c"], left["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Apply_ToACustomObjectBySecondManager_ConflictsOnTheSharedField()
    {
        await ProjectCrd.InstallAsync(Client);
        var model = ProjectCrd.Sample("tiny").ToJsonString();
        await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(model, V1Patch.PatchType.ApplyPatch), Group, Version, "default", Plural, "tiny", fieldManager: "gitops");
        var change = new JsonObject
        {
            ["apiVersion"] = $"{Group}/{Version}",
            ["kind"] = "DeepSeekModel",
            ["metadata"] = new JsonObject { ["name"] = "tiny" },
            ["spec"] = new JsonObject { ["experts"] = new JsonObject { ["shards"] = 8 } },
        }.ToJsonString();

        var status = await Refusal.StatusOfAsync(() => Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(change, V1Patch.PatchType.ApplyPatch), Group, Version, "default", Plural, "tiny", fieldManager: "autoscaler"));
        var forced = await Client.CustomObjects.PatchNamespacedCustomObjectAsync<JsonObject>(
            new V1Patch(change, V1Patch.PatchType.ApplyPatch), Group, Version, "default", Plural, "tiny", fieldManager: "autoscaler", force: true);

        Assert.Equal(409, status.Code);
        Assert.Contains(status.Details.Causes, c => c.Field == ".spec.experts.shards" && c.Message == "conflict with \"gitops\"");
        Assert.Equal(8, forced["spec"]!["experts"]!["shards"]!.GetValue<int>());
        Assert.Equal(2, forced["metadata"]!["generation"]!.GetValue<long>());
        var managers = forced["metadata"]!["managedFields"]!.AsArray().Select(e => e!["manager"]!.GetValue<string>()).Order();
        Assert.Equal(["autoscaler", "gitops"], managers);
    }

    [Fact]
    public async Task Delete_OfANamespace_DeletesItsCustomObjects()
    {
        await ProjectCrd.InstallAsync(Client);
        var ns = await Objects.NamespaceAsync(Client, "models");
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(ProjectCrd.Sample("tiny"), Group, Version, ns, Plural);

        await Client.CoreV1.DeleteNamespaceAsync(ns);

        await Eventually.GoneAsync(() => Client.CoreV1.ReadNamespaceAsync(ns), "the namespace holding a DeepSeekModel");
        var all = await Client.CustomObjects.ListCustomObjectForAllNamespacesAsync<JsonObject>(Group, Version, Plural);
        Assert.Empty(all["items"]!.AsArray());
    }

    [Fact]
    public async Task CustomObject_OfAClusterScopedCrd_HasNoNamespace()
    {
        await ProjectCrd.InstallAsync(Client, Widgets("Cluster", ("v1", true)));

        var created = await Client.CustomObjects.CreateClusterCustomObjectAsync<JsonObject>(Widget("example.com/v1", "global", 1), "example.com", "v1", "widgets");

        Assert.Null(created["metadata"]!["namespace"]);
        var list = await Client.CustomObjects.ListClusterCustomObjectAsync<JsonObject>("example.com", "v1", "widgets");
        Assert.Equal(["global"], list["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        var namespaced = await Refusal.StatusOfAsync(() => Client.CustomObjects.GetNamespacedCustomObjectAsync("example.com", "v1", "default", "widgets", "global"));
        Assert.Equal(404, namespaced.Code);
    }

    [Fact]
    public async Task Delete_OfTheCrd_RemovesItsObjectsAndStopsServingTheResource()
    {
        await ProjectCrd.InstallAsync(Client);
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(ProjectCrd.Sample("tiny"), Group, Version, "default", Plural);
        var ns = await Objects.NamespaceAsync(Client, "models");
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(ProjectCrd.Sample("other"), Group, Version, ns, Plural);

        await Client.ApiextensionsV1.DeleteCustomResourceDefinitionAsync("deepseekmodels.moe.deepseek-operator.io");

        await Eventually.GoneAsync(
            () => Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync("deepseekmodels.moe.deepseek-operator.io"), "the deleted CRD");
        var status = await Refusal.StatusOfAsync(() => Client.CustomObjects.ListNamespacedCustomObjectAsync(Group, Version, "default", Plural));
        Assert.Equal(404, status.Code);
        Assert.Equal("NotFound", status.Reason);

        await ProjectCrd.InstallAsync(Client);
        var afterReinstall = await Client.CustomObjects.ListCustomObjectForAllNamespacesAsync<JsonObject>(Group, Version, Plural);
        Assert.Empty(afterReinstall["items"]!.AsArray());
    }

    private static JsonObject Widget(string apiVersion, string name, int size) => new()
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = "Widget",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { ["size"] = size },
    };

    private static V1CustomResourceDefinition Widgets(string scope, params (string Name, bool Storage)[] versions) => new()
    {
        Metadata = new V1ObjectMeta { Name = "widgets.example.com" },
        Spec = new V1CustomResourceDefinitionSpec
        {
            Group = "example.com",
            Scope = scope,
            Names = new V1CustomResourceDefinitionNames { Plural = "widgets", Singular = "widget", Kind = "Widget", ListKind = "WidgetList" },
            Versions = [.. versions.Select(v => new V1CustomResourceDefinitionVersion
            {
                Name = v.Name,
                Served = true,
                Storage = v.Storage,
                Schema = new V1CustomResourceValidation
                {
                    OpenAPIV3Schema = new V1JSONSchemaProps
                    {
                        Type = "object",
                        Properties = new Dictionary<string, V1JSONSchemaProps>
                        {
                            ["spec"] = new() { Type = "object", Properties = new Dictionary<string, V1JSONSchemaProps> { ["size"] = new() { Type = "integer" } } },
                        },
                    },
                },
            })],
        },
    };
}
