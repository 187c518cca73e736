namespace DeepSeekOperator.Tests;

/// <summary>Files of the repository the tests run from.</summary>
internal static class Repository
{
    private static readonly Lazy<string> LazyRoot = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "DeepSeekOperator.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"DeepSeekOperator.sln not found above {AppContext.BaseDirectory}");
    });

    /// <summary>The directory holding DeepSeekOperator.sln.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>A path under the repository root, given with forward slashes.</summary>
    public static string PathOf(string relative) => Path.Combine([Root, .. relative.Split('/')]);
}
