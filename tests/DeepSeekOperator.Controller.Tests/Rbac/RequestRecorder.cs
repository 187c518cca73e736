using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Tests.Rbac;

/// <summary>One API request as RBAC authorises it.</summary>
internal sealed record ApiRequest(string ApiGroup, string Resource, string Verb, string? Namespace, string Method, string Path)
{
    /// <summary>
    /// The RBAC attributes of <paramref name="method"/> on <paramref name="path"/>, as the API server's request info
    /// resolver derives them; null for a path that names no resource (discovery, /healthz).
    /// </summary>
    public static ApiRequest? Parse(string method, string path, string query)
    {
        var segments = path.Trim('/').Split('/');
        string group;
        string[] rest;
        switch (segments)
        {
            case ["api", _, .. var core]:
                (group, rest) = ("", core);
                break;
            case ["apis", var named, _, .. var grouped]:
                (group, rest) = (named, grouped);
                break;
            default:
                return null;
        }

        string? ns = null;
        if (rest is ["namespaces", var name, _, ..])
        {
            (ns, rest) = (name, rest[2..]);
        }

        if (rest.Length == 0)
        {
            return null;
        }

        var resource = rest.Length > 2 ? rest[0] + "/" + rest[2] : rest[0];
        var named1 = rest.Length > 1;
        var verb = method switch
        {
            "GET" when named1 => "get",
            "GET" when query.Contains("watch=true", StringComparison.Ordinal) => "watch",
            "GET" => "list",
            "POST" => "create",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" when named1 => "delete",
            "DELETE" => "deletecollection",
            _ => method,
        };
        return new ApiRequest(group, resource, verb, ns, method, path);
    }
}

/// <summary>
/// Records the requests an API emulator serves over HTTPS, from ASP.NET Core's "Request starting" log: the operator
/// under test talks HTTPS, while the test arranges the world over the plain-HTTP port, which is not recorded.
/// </summary>
internal sealed class RequestRecorder : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Method, string Path, string Query)> requests = new();

    /// <summary>Every HTTPS request so far, in arrival order.</summary>
    public IReadOnlyList<(string Method, string Path, string Query)> Requests => [.. requests];

    public ILogger CreateLogger(string categoryName) =>
        categoryName == "Microsoft.AspNetCore.Hosting.Diagnostics" ? new Recording(requests) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Recording(ConcurrentQueue<(string Method, string Path, string Query)> requests) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (state is not IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                return;
            }

            string? Field(string name) => fields.FirstOrDefault(field => field.Key == name).Value?.ToString();
            if (Field("Method") is { } method && Field("Path") is { } path && Field("Scheme") == "https")
            {
                requests.Enqueue((method, path, Field("QueryString") ?? ""));
            }
        }
    }
}
