namespace DeepSeekOperator.DevCluster.Internal.Http;

/// <summary>
/// A resource request's path, parsed as kube-apiserver's <c>RequestInfoFactory</c> does:
/// <c>/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}</c> and <c>/apis/{group}/{version}/…</c>.
/// </summary>
internal sealed record RequestPath(string Group, string Version, string Namespace, string Resource, string Name, string Subresource, bool LegacyWatch)
{
    /// <summary>Parses a resource path; null for anything else (discovery, OpenAPI, health, unknown).</summary>
    public static RequestPath? Parse(string path)
    {
        var segments = path.Trim('/').Split('/', StringSplitOptions.None);
        if (segments.Length == 0 || segments.Any(s => s.Length == 0))
        {
            return null;
        }

        string group;
        string version;
        int rest;
        if (segments[0] == "api" && segments.Length >= 3)
        {
            group = "";
            version = segments[1];
            rest = 2;
        }
        else if (segments[0] == "apis" && segments.Length >= 4)
        {
            group = segments[1];
            version = segments[2];
            rest = 3;
        }
        else
        {
            return null;
        }

        var parts = segments[rest..].Select(Uri.UnescapeDataString).ToArray();
        var watch = false;
        if (parts[0] == "watch")
        {
            watch = true;
            parts = parts[1..];
            if (parts.Length == 0)
            {
                return null;
            }
        }

        // namespaces/{ns}/{resource}/... is a namespaced resource; namespaces/{name}[/{status|finalize}] is a namespace.
        if (parts[0] == "namespaces" && parts.Length >= 3 && !(parts.Length == 3 && parts[2] is "status" or "finalize"))
        {
            return parts.Length switch
            {
                3 => new RequestPath(group, version, parts[1], parts[2], "", "", watch),
                4 => new RequestPath(group, version, parts[1], parts[2], parts[3], "", watch),
                5 => new RequestPath(group, version, parts[1], parts[2], parts[3], parts[4], watch),
                _ => null,
            };
        }

        return parts.Length switch
        {
            1 => new RequestPath(group, version, "", parts[0], "", "", watch),
            2 => new RequestPath(group, version, "", parts[0], parts[1], "", watch),
            3 => new RequestPath(group, version, "", parts[0], parts[1], parts[2], watch),
            _ => null,
        };
    }
}
