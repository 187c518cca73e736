using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// Writes a DeepSeekModel's status through the status subresource, computed from the current status, and retried with
/// a fresh read on a conflict (CNPG's <c>RetryOnConflict</c>): the reconciler and the autoscaler each write their own
/// parts and keep the other's.
/// </summary>
/// <remarks>
/// With a cache of the models, the status is computed from the cached model, and nothing is read from the server when
/// it is unchanged; a change is written with the cached resourceVersion, and a conflict falls back to a fresh read. The
/// cache is trusted only while it holds the last version this writer wrote or read (or it has never written the model):
/// just after a write, before the watch delivered it, the cached status is an older one of this writer's own, and a
/// status computed equal to it may differ from what the server holds. A status written by anyone else reaches the cache
/// as an update, which queues the model again (<see cref="IsOwnWrite"/> is false for it).
/// </remarks>
internal sealed class StatusWriter(Kubernetes client, ILogger logger, Informer<DeepSeekModel>? cache = null)
{
    private const int Attempts = 5;

    // The resourceVersion of each model as this writer last wrote or read it.
    private readonly ConcurrentDictionary<ObjectKey, string> known = new();

    /// <summary>
    /// Writes the status computed from the current one unless it is the same; whether anything was written (nothing
    /// when the model is gone).
    /// </summary>
    public async Task<bool> WriteAsync(ObjectKey key, Func<DeepSeekModelStatus?, DeepSeekModelStatus> compute, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var fresh = attempt == 1 ? Cached(key) : null;
            if (fresh is null)
            {
                try
                {
                    var read = await client.CustomObjects.GetNamespacedCustomObjectAsync(
                        DeepSeekModel.Group, DeepSeekModel.Version, key.Namespace, DeepSeekModel.Plural, key.Name, cancellationToken).ConfigureAwait(false);
                    fresh = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(read));
                }
                catch (HttpOperationException exception) when (exception.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    Forget(key);
                    return false;
                }

                known[key] = fresh.Metadata.ResourceVersion;
            }

            var status = compute(fresh.Status);
            if (fresh.Status is not null && KubernetesJson.Serialize(status) == KubernetesJson.Serialize(fresh.Status))
            {
                return false;
            }

            fresh.Status = status;
            try
            {
                var written = await client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(
                    fresh, DeepSeekModel.Group, DeepSeekModel.Version, key.Namespace, DeepSeekModel.Plural, key.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
                known[key] = ResourceVersion(written);
                ReconcileLog.StatusWritten(logger, key.ToString(), status.Phase?.ToString() ?? "");
                return true;
            }
            catch (HttpOperationException exception) when (exception.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound && attempt < Attempts)
            {
                ReconcileLog.Conflict(logger, "status", key.ToString());
            }
        }
    }

    /// <summary>Whether <paramref name="model"/> is the version this writer's last status write made.</summary>
    public bool IsOwnWrite(DeepSeekModel model) =>
        known.TryGetValue(ObjectKey.Of(model), out var version) && version == model.Metadata.ResourceVersion;

    /// <summary>Drops what is remembered of a model that is gone.</summary>
    public void Forget(ObjectKey key) => known.TryRemove(key, out _);

    // The cached model when the cache is at least as new as what this writer last wrote or read, else null.
    private DeepSeekModel? Cached(ObjectKey key)
    {
        if (cache?.Get(key) is not { } cached)
        {
            return null;
        }

        return !known.TryGetValue(key, out var version) || version == cached.Metadata.ResourceVersion ? cached : null;
    }

    private static string ResourceVersion(object written) =>
        written is JsonElement { ValueKind: JsonValueKind.Object } element
            && element.TryGetProperty("metadata", out var metadata)
            && metadata.TryGetProperty("resourceVersion", out var version)
            ? version.GetString() ?? ""
            : KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(written)).Metadata.ResourceVersion;
}
