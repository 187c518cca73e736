namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>The <c>Content-Type</c>s of PATCH requests, and which resources take which.</summary>
internal static class PatchTypes
{
    public const string Json = "application/json-patch+json";
    public const string Merge = "application/merge-patch+json";
    public const string StrategicMerge = "application/strategic-merge-patch+json";
    public const string Apply = "application/apply-patch+yaml";

    /// <summary>What built-in resources accept, in the order kube-apiserver lists them in a 415.</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = [Json, Merge, StrategicMerge, Apply];

    /// <summary>What custom resources accept: no strategic merge patch, since a CRD carries no patch strategies.</summary>
    public static IReadOnlyList<string> CustomResource { get; } = [Json, Merge, Apply];

    /// <summary>
    /// The patch type of a request's <c>Content-Type</c> (parameters such as <c>; charset=utf-8</c> dropped), or a 415
    /// naming the types <paramref name="accepted"/> when it is not one of them.
    /// </summary>
    public static string Negotiate(string? contentType, IReadOnlyList<string> accepted)
    {
        var type = contentType ?? "";
        var semicolon = type.IndexOf(';', StringComparison.Ordinal);
        if (semicolon > 0)
        {
            type = type[..semicolon];
        }

        return accepted.Contains(type) ? type : throw PatchException.UnsupportedMediaType(accepted);
    }
}
