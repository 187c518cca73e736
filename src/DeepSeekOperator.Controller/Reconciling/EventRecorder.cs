using System.Globalization;
using DeepSeekOperator.Controller.Reconciling.Internal;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Reconciling;

/// <summary>
/// Records core/v1 Events about an object, from the operator's component, so that <c>kubectl describe</c> shows what the
/// operator did. A failure to record is logged and otherwise ignored: an event is never worth failing a reconcile for.
/// </summary>
/// <param name="client">The client the events are created with.</param>
/// <param name="component">The <c>source.component</c> and <c>reportingComponent</c> of every event.</param>
/// <param name="time">The clock of the events' timestamps.</param>
/// <param name="logger">Where failures to record go.</param>
public sealed class EventRecorder(Kubernetes client, string component, TimeProvider time, ILogger<EventRecorder> logger)
{
    /// <summary>The event type of routine changes.</summary>
    public const string Normal = "Normal";

    /// <summary>The event type of problems.</summary>
    public const string Warning = "Warning";

    /// <summary>Records an event of <paramref name="type"/> about <paramref name="regarding"/>.</summary>
    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> regarding, string type, string reason, string message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(regarding);
        var now = time.GetUtcNow();
        var ns = regarding.Metadata.NamespaceProperty ?? "default";
        var name = string.Create(CultureInfo.InvariantCulture, $"{regarding.Metadata.Name}.{now.ToUnixTimeMilliseconds() * 1_000_000 + Random.Shared.Next(1_000_000):x}");
        var timestamp = now.UtcDateTime;
        var body = new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = regarding.ApiVersion,
                Kind = regarding.Kind,
                Name = regarding.Metadata.Name,
                NamespaceProperty = ns,
                Uid = regarding.Metadata.Uid,
                ResourceVersion = regarding.Metadata.ResourceVersion,
            },
            Type = type,
            Reason = reason,
            Message = message,
            Source = new V1EventSource { Component = component },
            ReportingComponent = component,
            ReportingInstance = component,
            FirstTimestamp = timestamp,
            LastTimestamp = timestamp,
            Count = 1,
        };
        try
        {
            await client.CoreV1.CreateNamespacedEventAsync(body, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            ReconcileLog.EventFailed(logger, reason, ns + "/" + regarding.Metadata.Name, exception);
        }
    }
}
