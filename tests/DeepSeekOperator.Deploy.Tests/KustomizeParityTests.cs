using System.Text.Json.Nodes;
using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Deploy.Tests;

/// <summary>
/// <c>kubectl kustomize config/default</c> and the chart with its defaults install the same operator: the same kinds
/// (but the Namespace, which <c>helm install --create-namespace</c> makes), and the same RBAC rules.
/// </summary>
public sealed class KustomizeParityTests
{
    [Fact]
    public async Task KustomizeConfigDefault_SameKindsAndRbacRulesAsTheChartDefaults()
    {
        var kustomize = await Tools.KubectlAsync("kustomize", Repository.PathOf("config/default"));
        Assert.True(kustomize.ExitCode == 0, kustomize.ToString());
        var fromKustomize = Manifests.Parse(kustomize.Output);
        var fromChart = Manifests.Parse(await Tools.TemplateAsync(includeCrds: true));

        Assert.Equal(Kinds(fromChart), Kinds(fromKustomize.Where(d => d.Kind() != "Namespace")));
        foreach (var kind in new[] { "ClusterRole", "Role" })
        {
            Assert.Equal(RulesOf(fromKustomize, kind), RulesOf(fromChart, kind));
        }

        var chartDeployment = fromChart.Single(d => d.Kind() == "Deployment")["spec"]!;
        var kustomizeDeployment = fromKustomize.Single(d => d.Kind() == "Deployment")["spec"]!;
        Assert.Equal((int)kustomizeDeployment["replicas"]!, (int)chartDeployment["replicas"]!);
        foreach (var path in new[] { "securityContext", "containers/0/securityContext", "containers/0/resources", "containers/0/livenessProbe", "containers/0/readinessProbe", "containers/0/ports" })
        {
            Assert.True(
                JsonNode.DeepEquals(At(kustomizeDeployment, path), At(chartDeployment, path)),
                $"{path}: config/manager has {At(kustomizeDeployment, path)?.ToJsonString()}, the chart {At(chartDeployment, path)?.ToJsonString()}");
        }
    }

    private static List<string> Kinds(IEnumerable<JsonObject> documents) => [.. documents.Select(d => d.Kind()).Order(StringComparer.Ordinal)];

    // Every rule of every object of the kind, by role: the chart's names carry the release, so roles are told apart
    // by whether they are the leader election one.
    private static SortedDictionary<string, SortedSet<string>> RulesOf(IEnumerable<JsonObject> documents, string kind) =>
        new(
            documents.Where(d => d.Kind() == kind).ToDictionary(d => d.Name().EndsWith("-leader-election", StringComparison.Ordinal) ? "leader-election" : "operator", d => d.Rules()),
            StringComparer.Ordinal);

    private static JsonNode? At(JsonNode spec, string path) =>
        path.Split('/').Aggregate((JsonNode?)spec["template"]!["spec"], (node, step) => int.TryParse(step, out var i) ? node?[i] : node?[step]);
}
