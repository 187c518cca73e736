using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Conformance;

/// <summary>A server with a state directory keeps its objects across restarts and survives a torn journal tail, as etcd does.</summary>
public sealed class PersistenceTests : IDisposable
{
    private readonly string state = Path.Combine(Path.GetTempPath(), "dsop-persistence-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(state))
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_WithAStateDirectory_KeepsObjectsWithTheirUidsAndResourceVersions()
    {
        V1ConfigMap configMap;
        V1Deployment deployment;
        JsonObject model;
        long revisionBefore;
        await using (var first = await RunningApiServer.StartAsync(new ApiServerOptions { StateDirectory = state }))
        {
            configMap = await first.Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
            deployment = await first.Client.AppsV1.CreateNamespacedDeploymentAsync(Objects.Deployment("web", replicas: 3), "default");
            await ProjectCrd.InstallAsync(first.Client);
            model = await first.Client.CustomObjects.CreateNamespacedCustomObjectAsync<JsonObject>(
                ProjectCrd.Sample("tiny"), ProjectCrd.Group, ProjectCrd.Version, "default", ProjectCrd.Plural);
            await first.Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("deleted"), "default");
            await first.Client.CoreV1.DeleteNamespacedConfigMapAsync("deleted", "default");
            revisionBefore = first.Server.Revision;
        }

        await using var second = await RunningApiServer.StartAsync(new ApiServerOptions { StateDirectory = state });
        var client = second.Client;

        var readConfigMap = await client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default");
        Assert.Equal((configMap.Metadata.Uid, configMap.Metadata.ResourceVersion), (readConfigMap.Metadata.Uid, readConfigMap.Metadata.ResourceVersion));
        var readDeployment = await client.AppsV1.ReadNamespacedDeploymentAsync("web", "default");
        Assert.Equal((deployment.Metadata.Uid, deployment.Metadata.ResourceVersion), (readDeployment.Metadata.Uid, readDeployment.Metadata.ResourceVersion));
        Assert.Equal(3, readDeployment.Spec.Replicas);
        var readModel = await client.CustomObjects.GetNamespacedCustomObjectAsync<JsonObject>(
            ProjectCrd.Group, ProjectCrd.Version, "default", ProjectCrd.Plural, "tiny");
        Assert.Equal(model["metadata"]!["uid"]!.GetValue<string>(), readModel["metadata"]!["uid"]!.GetValue<string>());
        await Refusal.StatusOfAsync(() => client.CoreV1.ReadNamespacedConfigMapAsync("deleted", "default"));
        // The only writes at start are the kubernetes Endpoints and EndpointSlice following the new HTTPS port.
        Assert.InRange(second.Server.Revision, revisionBefore, revisionBefore + 2);

        var written = await client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("after-restart"), "default");
        Assert.True(long.Parse(written.Metadata.ResourceVersion, CultureInfo.InvariantCulture) > revisionBefore);
        readConfigMap.Data["key"] = "changed";
        var replaced = await client.CoreV1.ReplaceNamespacedConfigMapAsync(readConfigMap, "settings", "default");
        Assert.Equal("changed", replaced.Data["key"]);
    }

    [Fact]
    public async Task Restart_AfterACrashThatToreTheLastJournalRecord_LoadsEveryCommittedObject()
    {
        var crashImage = state + "-crash";
        try
        {
            var committed = new List<V1ConfigMap>();
            await using (var running = await RunningApiServer.StartAsync(new ApiServerOptions { StateDirectory = state }))
            {
                for (var i = 0; i < 20; i++)
                {
                    committed.Add(await running.Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap($"item-{i}"), "default"));
                }

                committed[0].Data["key"] = "updated";
                committed[0] = await running.Client.CoreV1.ReplaceNamespacedConfigMapAsync(committed[0], "item-0", "default");

                // The files as a crash would leave them: the journal written up to the last acknowledged write, no checkpoint.
                CopyDirectory(state, crashImage);
            }

            var journal = Path.Combine(crashImage, "objects", "journal.log");
            Assert.True(new FileInfo(journal).Length > 0, "the running server keeps its writes in the journal");
            await using (var file = new FileStream(journal, FileMode.Append))
            {
                // A record header promising 4096 bytes, then a few bytes of its body: the write the crash interrupted.
                await file.WriteAsync(new byte[] { 0x00, 0x10, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, (byte)'{', (byte)'"', (byte)'k' });
            }

            await using var restarted = await RunningApiServer.StartAsync(new ApiServerOptions { StateDirectory = crashImage });
            var list = await restarted.Client.CoreV1.ListNamespacedConfigMapAsync("default");

            var loaded = list.Items.Where(i => i.Metadata.Name.StartsWith("item-", StringComparison.Ordinal)).ToDictionary(i => i.Metadata.Name);
            Assert.Equal(committed.Count, loaded.Count);
            foreach (var item in committed)
            {
                Assert.Equal((item.Metadata.Uid, item.Metadata.ResourceVersion), (loaded[item.Metadata.Name].Metadata.Uid, loaded[item.Metadata.Name].Metadata.ResourceVersion));
            }

            Assert.Equal("updated", loaded["item-0"].Data["key"]);
            var next = await restarted.Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("after-crash"), "default");
            Assert.True(
                long.Parse(next.Metadata.ResourceVersion, CultureInfo.InvariantCulture) > long.Parse(committed[0].Metadata.ResourceVersion, CultureInfo.InvariantCulture));
        }
        finally
        {
            if (Directory.Exists(crashImage))
            {
                Directory.Delete(crashImage, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Restart_AfterGarbageWasAppendedToTheJournalOfAStoppedServer_LoadsEveryObject()
    {
        await using (var first = await RunningApiServer.StartAsync(new ApiServerOptions { StateDirectory = state }))
        {
            await first.Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("settings"), "default");
            await first.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "token" } }, "default");
        }

        await File.AppendAllTextAsync(Path.Combine(state, "objects", "journal.log"), "\u0007garbage that is no record");
        await using var second = await RunningApiServer.StartAsync(new ApiServerOptions { StateDirectory = state });

        Assert.NotNull(await second.Client.CoreV1.ReadNamespacedConfigMapAsync("settings", "default"));
        Assert.NotNull(await second.Client.CoreV1.ReadNamespacedSecretAsync("token", "default"));
        await second.Client.CoreV1.CreateNamespacedConfigMapAsync(Objects.ConfigMap("after"), "default");
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var target = File.Create(file.Replace(from, to, StringComparison.Ordinal));
            source.CopyTo(target);
        }
    }
}
