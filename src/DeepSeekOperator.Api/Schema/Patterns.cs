using System.Text.RegularExpressions;

namespace DeepSeekOperator.Api.Schema;

/// <summary>Regular expressions of the schema. Each is valid both in RE2 (the API server) and in .NET.</summary>
public static partial class Patterns
{
    /// <summary>A DNS-1123 subdomain: the names of most Kubernetes objects.</summary>
    public const string DnsSubdomain = @"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

    /// <summary>A DNS-1035 label: the names of Services, and so of a DeepSeekModel, whose name prefixes theirs.</summary>
    public const string DnsLabel = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

    /// <summary>A key of a Secret or ConfigMap.</summary>
    public const string SecretKey = @"^[-._a-zA-Z0-9]+$";

    /// <summary>An absolute path.</summary>
    public const string AbsolutePath = "^/.*$";

    /// <summary>A relative path.</summary>
    public const string RelativePath = "^[^/].*$";

    /// <summary>An http or https URL.</summary>
    public const string HttpUrl = @"^https?://[^\s/?#]+([/?#]\S*)?$";

    /// <summary>An OCI image reference: optional registry host and port, repository path, optional tag and digest.</summary>
    public const string ImageReference =
        @"^([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*(:[0-9]+)?/)?" +
        @"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*" +
        @"(:[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(@[a-z0-9]+([+._-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$";

    /// <summary>A Go duration: one or more of a decimal number and a unit (ns, us or µs, ms, s, m, h).</summary>
    public const string GoDuration = @"^([0-9]+(\.[0-9]+)?(ns|us|µs|μs|ms|s|m|h))+$";

    /// <summary>The CEL <c>matches</c> argument (escaped for a CEL string) that finds a '..' path segment.</summary>
    public const string DotDotSegmentCel = @"(^|/)\\.\\.(/|$)";

    /// <summary>Whether a path has a '..' segment.</summary>
    public static bool HasDotDotSegment(string path) => DotDotSegment().IsMatch(path);

    [GeneratedRegex(@"(^|/)\.\.(/|$)", RegexOptions.CultureInvariant)]
    private static partial Regex DotDotSegment();
}
