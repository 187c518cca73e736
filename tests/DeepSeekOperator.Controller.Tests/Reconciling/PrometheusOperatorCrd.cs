using System.Diagnostics;
using DeepSeekOperator.Controller.Children;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeepSeekOperator.Controller.Tests.Reconciling;

/// <summary>A minimal <c>servicemonitors.monitoring.coreos.com</c> CRD, as the Prometheus Operator installs it (schema left open).</summary>
internal static class PrometheusOperatorCrd
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Installs the CRD and waits until <paramref name="ns"/> serves ServiceMonitors.</summary>
    public static async Task InstallAsync(Kubernetes client, string ns)
    {
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(new V1CustomResourceDefinition
        {
            Metadata = new V1ObjectMeta { Name = ServiceMonitor.Plural + "." + ServiceMonitor.Group },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = ServiceMonitor.Group,
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames
                {
                    Plural = ServiceMonitor.Plural,
                    Singular = "servicemonitor",
                    Kind = ServiceMonitor.KindName,
                    ListKind = ServiceMonitor.KindName + "List",
                },
                Versions =
                [
                    new V1CustomResourceDefinitionVersion
                    {
                        Name = ServiceMonitor.Version,
                        Served = true,
                        Storage = true,
                        Schema = new V1CustomResourceValidation
                        {
                            OpenAPIV3Schema = new V1JSONSchemaProps
                            {
                                Type = "object",
                                Properties = new Dictionary<string, V1JSONSchemaProps>
                                {
                                    ["spec"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                                },
                            },
                        },
                    },
                ],
            },
        });

        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await client.CustomObjects.ListNamespacedCustomObjectAsync(ServiceMonitor.Group, ServiceMonitor.Version, ns, ServiceMonitor.Plural);
                return;
            }
            catch (HttpOperationException) when (clock.Elapsed < Patience)
            {
                await Task.Delay(20);
            }
        }
    }

    /// <summary>The ServiceMonitor <paramref name="name"/> in <paramref name="ns"/>, or null.</summary>
    public static async Task<ServiceMonitor?> ReadAsync(Kubernetes client, string ns, string name)
    {
        try
        {
            var read = await client.CustomObjects.GetNamespacedCustomObjectAsync(ServiceMonitor.Group, ServiceMonitor.Version, ns, ServiceMonitor.Plural, name);
            return KubernetesJson.Deserialize<ServiceMonitor>(KubernetesJson.Serialize(read));
        }
        catch (HttpOperationException exception) when (exception.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
