using System.Globalization;

namespace DeepSeekOperator.DevCluster.TestServer;

/// <summary>Where the server listens: <c>--host</c>/<c>--port</c>/<c>--grpc-port</c>, else <c>$POD_IP</c>/<c>$PORT</c>.</summary>
internal sealed record Settings(string Host, int Port, int? GrpcPort)
{
    public static Settings Parse(string[] args)
    {
        string? Option(string name)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
        }

        var host = Option("--host") ?? Environment.GetEnvironmentVariable("POD_IP") ?? "127.0.0.1";
        var port = Option("--port") ?? Environment.GetEnvironmentVariable("PORT") ?? "8080";
        var grpc = Option("--grpc-port");
        return new Settings(host, int.Parse(port, CultureInfo.InvariantCulture), grpc is null ? null : int.Parse(grpc, CultureInfo.InvariantCulture));
    }
}

/// <summary>What the health endpoints answer; the tests flip it through <c>/set</c>.</summary>
internal sealed class HealthState
{
    public volatile bool Healthy = true;
    public volatile bool Ready = true;
    public volatile bool Serving = true;
}
