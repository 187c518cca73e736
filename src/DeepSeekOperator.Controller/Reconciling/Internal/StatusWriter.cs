using System.Net;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// Writes a DeepSeekModel's status through the status subresource, computed from the status read afresh, and retried
/// with a fresh read on a conflict (CNPG's <c>RetryOnConflict</c>): the reconciler and the autoscaler each write their
/// own parts and keep the other's.
/// </summary>
internal sealed class StatusWriter(Kubernetes client, ILogger logger)
{
    private const int Attempts = 5;

    /// <summary>
    /// Reads the model afresh, and writes the status computed from the current one unless it is the same; whether
    /// anything was written (nothing when the model is gone).
    /// </summary>
    public async Task<bool> WriteAsync(ObjectKey key, Func<DeepSeekModelStatus?, DeepSeekModelStatus> compute, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            DeepSeekModel fresh;
            try
            {
                var read = await client.CustomObjects.GetNamespacedCustomObjectAsync(
                    DeepSeekModel.Group, DeepSeekModel.Version, key.Namespace, DeepSeekModel.Plural, key.Name, cancellationToken).ConfigureAwait(false);
                fresh = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(read));
            }
            catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }

            var status = compute(fresh.Status);
            if (fresh.Status is not null && KubernetesJson.Serialize(status) == KubernetesJson.Serialize(fresh.Status))
            {
                return false;
            }

            fresh.Status = status;
            try
            {
                await client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(
                    fresh, DeepSeekModel.Group, DeepSeekModel.Version, key.Namespace, DeepSeekModel.Plural, key.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
                ReconcileLog.StatusWritten(logger, key.ToString(), status.Phase?.ToString() ?? "");
                return true;
            }
            catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.Conflict && attempt < Attempts)
            {
                ReconcileLog.Conflict(logger, "status", key.ToString());
            }
        }
    }
}
