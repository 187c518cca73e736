using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Deploy.Tests;

/// <summary>
/// The real helm (<c>make helm</c> puts Helm 4 at <c>.tools/helm/helm</c>) and kubectl (on the PATH). A missing tool
/// fails the test, naming how to get it: CI has both.
/// </summary>
internal static class Tools
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>The chart's directory.</summary>
    public static string Chart => Repository.PathOf("charts/deepseek-operator");

    /// <summary>The namespace the tests install the chart into, as config/default does.</summary>
    public const string Namespace = "deepseek-operator-system";

    /// <summary>The release name the tests render with.</summary>
    public const string Release = "deepseek-operator";

    public static string HelmPath
    {
        get
        {
            var path = Repository.PathOf(".tools/helm/helm");
            return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing: run make helm (make test runs it)");
        }
    }

    /// <summary>Runs helm with a home of its own (no user's repositories, plugins or cache).</summary>
    public static Task<ToolResult> HelmAsync(params string[] args) => ToolProcess.RunAsync(HelmPath, args, HelmEnvironment());

    /// <summary><c>helm template</c> of the chart into <see cref="Namespace"/> with the values files given, and the CRD when asked.</summary>
    public static async Task<string> TemplateAsync(bool includeCrds, params string[] valuesFiles)
    {
        string[] args = ["template", Release, Chart, "--namespace", Namespace, .. includeCrds ? ["--include-crds"] : Array.Empty<string>(), .. valuesFiles.SelectMany(f => new[] { "-f", f })];
        var result = await HelmAsync(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Output;
    }

    /// <summary>Runs kubectl from the PATH without a cluster (kustomize).</summary>
    public static Task<ToolResult> KubectlAsync(params string[] args) => ToolProcess.RunAsync("kubectl", args, HelmEnvironment());

    private static Dictionary<string, string> HelmEnvironment()
    {
        var home = Path.Combine(Path.GetTempPath(), "dsop-deploy-tests-helm-home");
        return new Dictionary<string, string>
        {
            ["HELM_CONFIG_HOME"] = Path.Combine(home, "config"),
            ["HELM_CACHE_HOME"] = Path.Combine(home, "cache"),
            ["HELM_DATA_HOME"] = Path.Combine(home, "data"),
            ["KUBECONFIG"] = Path.Combine(home, "no-cluster"),
        };
    }

}
