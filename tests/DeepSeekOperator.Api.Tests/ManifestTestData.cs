using DeepSeekOperator.Tests;

namespace DeepSeekOperator.Api.Tests;

/// <summary>The sample manifests and the invalid ones, each invalid one with the errors it must produce.</summary>
public static class ManifestTestData
{
    public static string SamplesDirectory => Repository.PathOf("config/samples");

    public static string InvalidDirectory => Path.Combine(AppContext.BaseDirectory, "testdata", "invalid");

    public static TheoryData<string> Samples() => [.. SampleFiles()];

    public static TheoryData<string> InvalidManifests() => [.. FileNames(InvalidDirectory)];

    public static IReadOnlyList<string> SampleFiles() => FileNames(SamplesDirectory);

    private static List<string> FileNames(string directory) =>
        [.. Directory.GetFiles(directory, "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    /// <summary>The <c># error: </c> lines at the top of an invalid manifest.</summary>
    public static IReadOnlyList<string> ExpectedErrors(string text) =>
        [.. text.Split('\n').TakeWhile(l => l.StartsWith('#')).Where(l => l.StartsWith("# error: ", StringComparison.Ordinal)).Select(l => l["# error: ".Length..].TrimEnd('\r'))];
}
