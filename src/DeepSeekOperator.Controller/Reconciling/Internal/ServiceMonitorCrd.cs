using System.Net;
using DeepSeekOperator.Controller.Children;
using k8s;
using k8s.Autorest;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// Whether the <c>servicemonitors.monitoring.coreos.com</c> CRD is installed, looked up (one GET of the CRD) at most once
/// per <paramref name="recheck"/>: the Prometheus Operator installed or removed later is noticed by the models' resync.
/// </summary>
/// <param name="client">The client the CRD is read with.</param>
/// <param name="time">The clock the answer ages by.</param>
/// <param name="recheck">How long an answer is trusted; <see cref="TimeSpan.Zero"/> looks the CRD up every time.</param>
internal sealed class ServiceMonitorCrd(Kubernetes client, TimeProvider time, TimeSpan recheck)
{
    /// <summary>The CRD's name.</summary>
    public const string Name = ServiceMonitor.Plural + "." + ServiceMonitor.Group;

    // Replaced whole, so workers racing past an expired answer at worst look the CRD up twice.
    private Answer? known;

    /// <summary>Whether the CRD exists, from the cache while its answer is younger than the recheck period.</summary>
    public async Task<bool> IsInstalledAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (known is { } answer && now - answer.At < recheck)
        {
            return answer.Installed;
        }

        bool installed;
        try
        {
            await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(Name, cancellationToken: cancellationToken).ConfigureAwait(false);
            installed = true;
        }
        catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.NotFound)
        {
            installed = false;
        }

        known = new Answer(installed, now);
        return installed;
    }

    private sealed record Answer(bool Installed, DateTimeOffset At);
}
