using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Deploy.Tests;

/// <summary>
/// The chart reads only files inside itself: <c>make manifests</c> copies the generated CRD and RBAC rules, the
/// dashboards and the alert rules into it. Each copy is the same as its source, and nothing is left over.
/// </summary>
public sealed class ChartFilesTests
{
    [Theory]
    [InlineData("crds", "charts/deepseek-operator/crds", "*.yaml")]
    [InlineData("config/crd", "charts/deepseek-operator/crds", "deepseekmodels.*.yaml")]
    [InlineData("config/grafana/dashboards", "charts/deepseek-operator/files/dashboards", "*.json")]
    [InlineData("config/prometheus/rules", "charts/deepseek-operator/files/rules", "*.yml")]
    public void ChartCopies_AreTheSameFilesAsTheirSources_MakeManifestsWritesThem(string source, string copy, string pattern)
    {
        var expected = Files(source, pattern);
        var actual = Files(copy, pattern);

        Assert.True(
            expected.Keys.SequenceEqual(actual.Keys, StringComparer.Ordinal),
            $"{copy} holds [{string.Join(", ", actual.Keys)}], {source} [{string.Join(", ", expected.Keys)}]: run make manifests");
        foreach (var (name, content) in expected)
        {
            Assert.True(content == actual[name], $"{copy}/{name} differs from {source}/{name}: run make manifests");
        }
    }

    [Theory]
    [InlineData("role.yaml")]
    [InlineData("leader_election_role.yaml")]
    public void ChartRbacRules_AreTheGeneratedOnes(string file)
    {
        Assert.True(
            File.ReadAllText(Repository.PathOf("config/rbac/" + file)) == File.ReadAllText(Repository.PathOf("charts/deepseek-operator/files/rbac/" + file)),
            $"charts/deepseek-operator/files/rbac/{file} differs from config/rbac/{file}: run make manifests");
    }

    private static SortedDictionary<string, string> Files(string directory, string pattern)
    {
        var path = Repository.PathOf(directory);
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (Directory.Exists(path))
        {
            foreach (var file in Directory.EnumerateFiles(path, pattern))
            {
                files[Path.GetFileName(file)] = File.ReadAllText(file);
            }
        }

        return files;
    }
}
