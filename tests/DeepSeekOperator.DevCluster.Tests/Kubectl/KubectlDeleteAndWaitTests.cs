using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubectl;

public sealed class KubectlDeleteAndWaitTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Wait_ForReadyConditionSetThroughTheApi_ReturnsConditionMet()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.InstallCrdAsync();
        await cluster.RunOkAsync("apply", "-f", KubectlCluster.TinySamplePath);

        var waiting = cluster.RunAsync("wait", "--for=condition=Ready", "deepseekmodel/tiny", "--timeout=20s");
        await Manifests.SetReadyStatusAsync(cluster.Client, "default", "tiny");
        var result = await waiting;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("deepseekmodel.moe.deepseek-operator.io/tiny condition met", result.Output.Trim());
    }

    [Fact]
    public async Task Wait_ForAConditionNeverSet_TimesOutAndFails()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.InstallCrdAsync();
        await cluster.RunOkAsync("apply", "-f", KubectlCluster.TinySamplePath);

        var result = await cluster.RunAsync("wait", "--for=condition=Ready", "dsm/tiny", "--timeout=1s");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("timed out waiting for the condition on deepseekmodels/tiny", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_CustomObject_IsGoneWhenKubectlReturns()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        await cluster.InstallCrdAsync();
        await cluster.RunOkAsync("apply", "-f", KubectlCluster.TinySamplePath);

        var result = await cluster.RunOkAsync("delete", "dsm", "tiny");

        Assert.Equal("deepseekmodel.moe.deepseek-operator.io \"tiny\" deleted", result.Output.Trim());
        var gone = await cluster.RunAsync("get", "dsm", "tiny");
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("NotFound", gone.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeleteForeground_OwnerWithDependent_OwnerGoesOnlyAfterTheDependent()
    {
        await using var cluster = await KubectlCluster.StartAsync();
        var client = cluster.Client;
        var owner = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "owner" } }, "default");
        await client.CoreV1.CreateNamespacedConfigMapAsync(
            new V1ConfigMap
            {
                Metadata = new V1ObjectMeta
                {
                    Name = "dependent",
                    Finalizers = ["example.com/hold"],
                    OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = "owner", Uid = owner.Metadata.Uid, BlockOwnerDeletion = true }],
                },
            },
            "default");

        var deleting = cluster.RunAsync("delete", "configmap", "owner", "--cascade=foreground", "--timeout=20s");
        var dependent = await PollAsync(
            () => client.CoreV1.ReadNamespacedConfigMapAsync("dependent", "default"),
            d => d.Metadata.DeletionTimestamp is not null);
        var waitingOwner = await client.CoreV1.ReadNamespacedConfigMapAsync("owner", "default");
        Assert.Contains("foregroundDeletion", waitingOwner.Metadata.Finalizers);
        Assert.NotNull(waitingOwner.Metadata.DeletionTimestamp);
        Assert.False(deleting.IsCompleted);

        dependent.Metadata.Finalizers = [];
        await client.CoreV1.ReplaceNamespacedConfigMapAsync(dependent, "dependent", "default");
        var result = await deleting;

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("configmap \"owner\" deleted", result.Output.Trim());
        foreach (var name in new[] { "owner", "dependent" })
        {
            var error = await Assert.ThrowsAsync<HttpOperationException>(() => client.CoreV1.ReadNamespacedConfigMapAsync(name, "default"));
            Assert.Equal(HttpStatusCode.NotFound, error.Response.StatusCode);
        }
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, "the condition was not reached in time");
            await Task.Delay(20);
        }
    }
}
