using System.Net;
using DeepSeekOperator.Controller.Children;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeepSeekOperator.Controller.Reconciling.Internal;

/// <summary>
/// Reads, creates and replaces the kinds a DeepSeekModel owns: the built-in ones through the typed client of each, a
/// <see cref="ServiceMonitor"/> through the custom objects client.
/// </summary>
internal sealed class ChildClient(Kubernetes client)
{
    /// <summary>The live object with the desired object's kind, namespace and name, or null when there is none.</summary>
    public async Task<IKubernetesObject<V1ObjectMeta>?> ReadAsync(IKubernetesObject<V1ObjectMeta> desired, CancellationToken cancellationToken)
    {
        var (name, ns) = (desired.Metadata.Name, desired.Metadata.NamespaceProperty);
        try
        {
            return desired switch
            {
                V1ServiceAccount => await client.CoreV1.ReadNamespacedServiceAccountAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                V1Role => await client.RbacAuthorizationV1.ReadNamespacedRoleAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                V1RoleBinding => await client.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                V1ConfigMap => await client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                V1Deployment => await client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                V1Service => await client.CoreV1.ReadNamespacedServiceAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                V1PodDisruptionBudget => await client.PolicyV1.ReadNamespacedPodDisruptionBudgetAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                V1NetworkPolicy => await client.NetworkingV1.ReadNamespacedNetworkPolicyAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
                ServiceMonitor => Monitor(await client.CustomObjects.GetNamespacedCustomObjectAsync(
                    ServiceMonitor.Group, ServiceMonitor.Version, ns, ServiceMonitor.Plural, name, cancellationToken).ConfigureAwait(false)),
                _ => throw Unsupported(desired),
            };
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Creates <paramref name="desired"/> and returns what the server stored.</summary>
    public async Task<IKubernetesObject<V1ObjectMeta>> CreateAsync(IKubernetesObject<V1ObjectMeta> desired, CancellationToken cancellationToken)
    {
        var ns = desired.Metadata.NamespaceProperty;
        return desired switch
        {
            V1ServiceAccount o => await client.CoreV1.CreateNamespacedServiceAccountAsync(o, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Role o => await client.RbacAuthorizationV1.CreateNamespacedRoleAsync(o, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1RoleBinding o => await client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(o, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1ConfigMap o => await client.CoreV1.CreateNamespacedConfigMapAsync(o, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Deployment o => await client.AppsV1.CreateNamespacedDeploymentAsync(o, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Service o => await client.CoreV1.CreateNamespacedServiceAsync(o, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1PodDisruptionBudget o => await client.PolicyV1.CreateNamespacedPodDisruptionBudgetAsync(o, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1NetworkPolicy o => await client.NetworkingV1.CreateNamespacedNetworkPolicyAsync(o, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            ServiceMonitor o => Monitor(await client.CustomObjects.CreateNamespacedCustomObjectAsync(
                o, ServiceMonitor.Group, ServiceMonitor.Version, ns, ServiceMonitor.Plural, cancellationToken: cancellationToken).ConfigureAwait(false)),
            _ => throw Unsupported(desired),
        };
    }

    /// <summary>
    /// Replaces the object of <paramref name="desired"/>'s kind, namespace and name with <paramref name="json"/>, whose
    /// resourceVersion guards against a concurrent write.
    /// </summary>
    public async Task<IKubernetesObject<V1ObjectMeta>> ReplaceAsync(IKubernetesObject<V1ObjectMeta> desired, string json, CancellationToken cancellationToken)
    {
        var (name, ns) = (desired.Metadata.Name, desired.Metadata.NamespaceProperty);
        return desired switch
        {
            V1ServiceAccount => await client.CoreV1.ReplaceNamespacedServiceAccountAsync(KubernetesJson.Deserialize<V1ServiceAccount>(json), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Role => await client.RbacAuthorizationV1.ReplaceNamespacedRoleAsync(KubernetesJson.Deserialize<V1Role>(json), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1RoleBinding => await client.RbacAuthorizationV1.ReplaceNamespacedRoleBindingAsync(KubernetesJson.Deserialize<V1RoleBinding>(json), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1ConfigMap => await client.CoreV1.ReplaceNamespacedConfigMapAsync(KubernetesJson.Deserialize<V1ConfigMap>(json), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Deployment => await client.AppsV1.ReplaceNamespacedDeploymentAsync(KubernetesJson.Deserialize<V1Deployment>(json), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1Service => await client.CoreV1.ReplaceNamespacedServiceAsync(KubernetesJson.Deserialize<V1Service>(json), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1PodDisruptionBudget => await client.PolicyV1.ReplaceNamespacedPodDisruptionBudgetAsync(KubernetesJson.Deserialize<V1PodDisruptionBudget>(json), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            V1NetworkPolicy => await client.NetworkingV1.ReplaceNamespacedNetworkPolicyAsync(KubernetesJson.Deserialize<V1NetworkPolicy>(json), name, ns, cancellationToken: cancellationToken).ConfigureAwait(false),
            ServiceMonitor => Monitor(await client.CustomObjects.ReplaceNamespacedCustomObjectAsync(
                KubernetesJson.Deserialize<ServiceMonitor>(json), ServiceMonitor.Group, ServiceMonitor.Version, ns, ServiceMonitor.Plural, name, cancellationToken: cancellationToken).ConfigureAwait(false)),
            _ => throw Unsupported(desired),
        };
    }

    // The custom objects client answers with untyped JSON.
    private static ServiceMonitor Monitor(object json) => KubernetesJson.Deserialize<ServiceMonitor>(KubernetesJson.Serialize(json));

    private static ArgumentOutOfRangeException Unsupported(IKubernetesObject<V1ObjectMeta> obj) =>
        new(nameof(obj), obj.Kind, "not a kind a DeepSeekModel owns");
}
