using System.Text.Json.Nodes;
using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>One server with the project CRD installed, shared by the admission tests of a class.</summary>
public sealed class ProjectCrdServer : IAsyncLifetime
{
    private RunningApiServer running = null!;

    public Kubernetes Client => running.Client;

    public async Task InitializeAsync()
    {
        running = await RunningApiServer.StartAsync();
        await ProjectCrd.InstallAsync(running.Client);
    }

    public async Task DisposeAsync() => await running.DisposeAsync();
}

/// <summary>
/// Admission of DeepSeekModels by the project CRD: OpenAPI schema errors and CEL rules answer 422 with a cause per
/// field, as apiextensions-apiserver does; every manifest of the API package's invalid testdata is refused.
/// </summary>
public sealed class CustomResourceValidationTests(ProjectCrdServer server) : IClassFixture<ProjectCrdServer>
{
    private const string Group = ProjectCrd.Group;
    private const string Version = ProjectCrd.Version;
    private const string Plural = ProjectCrd.Plural;
    private const string InvalidDirectory = "tests/DeepSeekOperator.Api.Tests/testdata/invalid";

    private Kubernetes Client => server.Client;

    [Theory]
    [MemberData(nameof(InvalidSamples))]
    public async Task Create_InvalidSample_IsInvalidWithTheFieldCause(string file)
    {

        var status = await Refusal.StatusOfAsync(
            () => Client.CustomObjects.CreateNamespacedCustomObjectAsync(Load(file), Group, Version, "default", Plural));

        Assert.Equal(422, status.Code);
        Assert.Equal("Invalid", status.Reason);
        Assert.Equal("DeepSeekModel", status.Details.Kind);
        Assert.Equal(Group, status.Details.Group);
        foreach (var (field, message) in ExpectedErrors(file))
        {
            Assert.Contains(status.Details.Causes, c => c.Field == field && c.Message == message);
        }

        Assert.StartsWith($"DeepSeekModel.{Group} \"{status.Details.Name}\" is invalid: ", status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithTwoModelSources_IsRejectedWithTheRuleMessage()
    {
        var model = ProjectCrd.Sample("two-sources");
        model["spec"]!["model"]!["source"]!["pvc"] = new JsonObject { ["claimName"] = "weights" };

        var status = await Refusal.StatusOfAsync(() => Client.CustomObjects.CreateNamespacedCustomObjectAsync(model, Group, Version, "default", Plural));

        Assert.Equal(
            $"DeepSeekModel.{Group} \"two-sources\" is invalid: spec.model.source: Invalid value: \"object\": exactly one of pvc, hostPath, image or synthetic must be set",
            status.Message);
    }

    [Fact]
    public async Task Update_BreakingARule_IsRejectedAndKeepsTheStoredObject()
    {
        var created = await Client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonObject>(ProjectCrd.Sample("rule-update"), Group, Version, "default", Plural);

        var status = await Refusal.StatusOfAsync(() => Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch("""{"spec":{"autoscaling":{"shards":{"minReplicas":5,"maxReplicas":2}}}}""", V1Patch.PatchType.MergePatch),
            Group, Version, "default", Plural, "rule-update"));

        var cause = Assert.Single(status.Details.Causes);
        Assert.Equal("spec.autoscaling.shards.minReplicas", cause.Field);
        Assert.Contains("minReplicas must not be greater than maxReplicas", cause.Message, StringComparison.Ordinal);
        var stored = await Client.CustomObjects.GetNamespacedCustomObjectAsync<JsonObject>(Group, Version, "default", Plural, "rule-update");
        Assert.Equal(created["metadata"]!["resourceVersion"]!.GetValue<string>(), stored["metadata"]!["resourceVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_WithAnUnknownField_IsPrunedOrRefusedUnderStrictValidation()
    {
        var model = ProjectCrd.Sample("pruned");
        model["spec"]!["router"]!["replica"] = 3;

        var strict = await Refusal.StatusOfAsync(
            () => Client.CustomObjects.CreateNamespacedCustomObjectAsync(model, Group, Version, "default", Plural, fieldValidation: "Strict"));
        var pruned = await Client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonObject>(model, Group, Version, "default", Plural, fieldValidation: "Ignore");

        Assert.Equal(400, strict.Code);
        Assert.Equal("BadRequest", strict.Reason);
        Assert.Contains("unknown field \"spec.router.replica\"", strict.Message, StringComparison.Ordinal);
        Assert.Null(pruned["spec"]!["router"]!["replica"]);
        Assert.Equal(1, pruned["spec"]!["router"]!["replicas"]!.GetValue<int>());
    }

    public static TheoryData<string> InvalidSamples()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Repository.PathOf(InvalidDirectory), "*.yaml").Order(StringComparer.Ordinal))
        {
            // A misspelt field is not invalid: it is pruned, or refused with 400 under strict field validation.
            if (!ErrorLines(path).Any(l => l.StartsWith("unknown field", StringComparison.Ordinal)))
            {
                data.Add(Path.GetFileName(path));
            }
        }

        return data;
    }

    private static IEnumerable<string> ErrorLines(string path) =>
        File.ReadLines(path).TakeWhile(l => l.StartsWith('#')).Where(l => l.StartsWith("# error: ", StringComparison.Ordinal)).Select(l => l["# error: ".Length..]);

    /// <summary>
    /// The field and cause message of each <c># error:</c> line of a file. Kubernetes names a member of
    /// additionalProperties with a dot (limits.memory) where the testdata writes it as the API package's validator does (limits[memory]).
    /// </summary>
    private static IEnumerable<(string Field, string Message)> ExpectedErrors(string file) =>
        ErrorLines(Repository.PathOf($"{InvalidDirectory}/{file}"))
            .Select(l => l.Replace("limits[memory]", "limits.memory", StringComparison.Ordinal))
            .Select(l => (l[..l.IndexOf(": ", StringComparison.Ordinal)], l[(l.IndexOf(": ", StringComparison.Ordinal) + 2)..]));

    private static JsonObject Load(string file) => ProjectCrd.ReadYaml($"{InvalidDirectory}/{file}");
}
