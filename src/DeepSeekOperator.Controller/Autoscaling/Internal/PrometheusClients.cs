using System.Collections.Concurrent;
using DeepSeekOperator.Controller.Prometheus;

namespace DeepSeekOperator.Controller.Autoscaling.Internal;

/// <summary>
/// One <see cref="PrometheusClient"/>, with its own <see cref="HttpClient"/> and connection pool, per Prometheus URL the
/// models name; reused for every query to that URL for the life of the operator process.
/// </summary>
internal sealed class PrometheusClients(TimeProvider time, TimeSpan timeout)
{
    // Connections are recycled, so that a Service that moves to other pods is followed.
    private static readonly TimeSpan ConnectionLifetime = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, PrometheusClient> clients = new(StringComparer.Ordinal);

    /// <summary>How long a query may take.</summary>
    public TimeSpan Timeout => timeout;

    /// <summary>The client of <paramref name="url"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="url"/> is not an absolute http or https URL.</exception>
    public PrometheusClient For(string url) => clients.GetOrAdd(url, Create);

    private PrometheusClient Create(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var server))
        {
            throw new ArgumentException($"spec.autoscaling.prometheusUrl \"{url}\" is not an absolute URL", nameof(url));
        }

        // The client's own deadline ends a query; the HttpClient's timeout must not come first.
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = ConnectionLifetime }) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        return new PrometheusClient(http, new PrometheusClientOptions { Server = server, Timeout = timeout, Time = time });
    }
}
