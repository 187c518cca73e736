using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Deploy.Tests;

/// <summary>
/// <c>helm template</c> of the chart against the golden renders in <c>Golden/</c> (without the CRD, which
/// <see cref="ChartFilesTests"/> checks is the generated one). After a deliberate change to the
/// chart, <c>make chart-golden</c> rewrites them (DSOP_UPDATE_GOLDEN=1); review the diff before committing it.
/// </summary>
public sealed class ChartRenderTests
{
    [Theory]
    [InlineData("default", null)]
    [InlineData("private-cloud", "charts/deepseek-operator/ci/private-cloud-values.yaml")]
    public async Task HelmTemplate_MatchesTheGoldenRender(string golden, string? valuesFile)
    {
        var rendered = await Tools.TemplateAsync(includeCrds: false, valuesFile is null ? [] : [Repository.PathOf(valuesFile)]);
        var path = Repository.PathOf($"tests/DeepSeekOperator.Deploy.Tests/Golden/{golden}.yaml");
        if (Environment.GetEnvironmentVariable("DSOP_UPDATE_GOLDEN") == "1")
        {
            await File.WriteAllTextAsync(path, rendered);
        }

        Assert.True(File.Exists(path), $"{path} is missing: run make chart-golden");
        var expected = await File.ReadAllTextAsync(path);
        Assert.True(expected == rendered, $"helm template no longer renders {path} (make chart-golden rewrites it):\n{Diff(expected, rendered)}");
    }

    [Fact]
    public async Task PrivateCloudValues_EveryImageFromTheMirror_OperatorPinnedByDigest_NamespacedRbac()
    {
        var documents = Manifests.Parse(await Tools.TemplateAsync(includeCrds: false, Repository.PathOf("charts/deepseek-operator/ci/private-cloud-values.yaml")));

        var deployment = documents.Single(d => d.Kind() == "Deployment");
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        Assert.Equal(
            "registry.internal.example:5000/deepseek-operator/dsop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            (string)container["image"]!);
        var args = container["args"]!.AsArray().Select(a => (string)a!).ToList();
        Assert.Contains("--runtime-image=registry.internal.example:5000/mirror/deepseek-operator/dsop:0.1.0-cuda12", args);
        Assert.Equal(["--watch-namespace=team-a", "--watch-namespace=team-b"], args.Where(a => a.StartsWith("--watch-namespace", StringComparison.Ordinal)));
        Assert.Equal(["registry-internal", "ghcr-mirror"], pod["imagePullSecrets"]!.AsArray().Select(s => (string)s!["name"]!));
        Assert.Equal("system-cluster-critical", (string)pod["priorityClassName"]!);

        // A Role in each watched namespace, and a ClusterRole with only what a Role cannot grant.
        var roles = documents.Where(d => d.Kind() == "Role" && !d.Name().EndsWith("-leader-election", StringComparison.Ordinal)).ToList();
        Assert.Equal(["team-a", "team-b"], roles.Select(r => (string)r["metadata"]!["namespace"]!));
        var clusterRole = documents.Single(d => d.Kind() == "ClusterRole");
        Assert.Equal(["apiextensions.k8s.io customresourcedefinitions get"], clusterRole.Rules());
        Assert.All(documents, d => Assert.Equal("ml-platform", (string?)d["metadata"]!["labels"]!["cost-center"]));
        Assert.Contains(documents, d => d.Kind() == "ServiceMonitor");
    }

    [Theory]
    [InlineData(null, "kubectl apply -f config/samples/tiny-synthetic.yaml")]
    [InlineData("charts/deepseek-operator/ci/private-cloud-values.yaml", "kubectl -n team-a apply -f config/samples/tiny-synthetic.yaml")]
    public async Task Notes_ApplyTheTinySampleFromALocalFile_IntoTheFirstWatchedNamespace(string? valuesFile, string apply)
    {
        string[] values = valuesFile is null ? [] : ["-f", Repository.PathOf(valuesFile)];
        var result = await Tools.HelmAsync(["install", Tools.Release, Tools.Chart, "--namespace", Tools.Namespace, "--dry-run=client", .. values]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var notes = result.Output[result.Output.IndexOf("NOTES:", StringComparison.Ordinal)..];
        Assert.Contains($"\n  {apply}\n", notes, StringComparison.Ordinal);
        Assert.DoesNotContain("://raw.", notes, StringComparison.Ordinal);
    }

    // The lines from the first that differs, a few of each side: enough to see what changed.
    private static string Diff(string expected, string actual)
    {
        var want = expected.Split('\n');
        var got = actual.Split('\n');
        var first = 0;
        while (first < want.Length && first < got.Length && want[first] == got[first])
        {
            first++;
        }

        var from = Math.Max(0, first - 3);
        return $"first difference at line {first + 1} (golden has {want.Length} lines, the render {got.Length})\n"
            + string.Concat(want.Skip(from).Take(12).Select(l => "- " + l + "\n"))
            + string.Concat(got.Skip(from).Take(12).Select(l => "+ " + l + "\n"));
    }
}
