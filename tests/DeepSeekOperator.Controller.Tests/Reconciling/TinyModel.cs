using System.Diagnostics;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Tests.Children;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Controller.Tests.Reconciling;

/// <summary>The tiny sample as a DeepSeekModel object in a test namespace: created once the API serves the kind, and read back.</summary>
internal static class TinyModel
{
    public const string Name = "tiny";

    /// <summary>Waits (up to <paramref name="patience"/>) until <paramref name="condition"/> holds, polling every 20 ms.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < patience, $"not {what} within {patience}");
            await Task.Delay(20);
        }
    }

    /// <summary>Creates the tiny sample in <paramref name="ns"/>, retrying until the CRD just applied is served.</summary>
    public static async Task<DeepSeekModel> CreateAsync(Kubernetes client, string ns, TimeSpan patience)
    {
        var sample = Samples.Read(Samples.TinyFile);
        sample.Metadata = new V1ObjectMeta { Name = Name, NamespaceProperty = ns };
        object? created = null;
        await EventuallyAsync(
            async () =>
            {
                try
                {
                    created = await client.CustomObjects.CreateNamespacedCustomObjectAsync(sample, DeepSeekModel.Group, DeepSeekModel.Version, ns, DeepSeekModel.Plural);
                    return true;
                }
                catch (k8s.Autorest.HttpOperationException)
                {
                    return false;
                }
            },
            "the model created",
            patience);
        return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(created));
    }

    /// <summary>The model as the API server has it now.</summary>
    public static async Task<DeepSeekModel> ReadAsync(Kubernetes client, string ns)
    {
        var read = await client.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, ns, DeepSeekModel.Plural, Name);
        return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(read));
    }
}
