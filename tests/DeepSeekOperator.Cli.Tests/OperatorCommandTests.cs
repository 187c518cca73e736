using System.Diagnostics;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.DevCluster;
using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Cli.Tests;

public sealed class OperatorCommandTests
{
    private const string Namespace = "models";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("--metrics-port must be between 0 and 65535, got 70000", "--metrics-port", "70000")]
    [InlineData("--bind \"localhost\" is not an IP address", "--bind", "localhost")]
    [InlineData("--lease-name \"Leader_Lease\" is not a DNS subdomain", "--lease-name", "Leader_Lease")]
    [InlineData("--lease-namespace \"Kube System\" is not a DNS label", "--lease-namespace", "Kube System")]
    [InlineData("--watch-namespace \"Models\" is not a DNS label", "--watch-namespace", "Models")]
    [InlineData("--watch-namespace \"team_b\" is not a DNS label", "--watch-namespace", "team-a", "--watch-namespace", "team_b")]
    [InlineData("--watch-namespace \"Models\" is not a DNS label", "--namespace", "Models")]
    [InlineData("--workers must be at least 1, got 0", "--workers", "0")]
    [InlineData("--runtime-image must not be empty", "--runtime-image", " ")]
    [InlineData("--kubeconfig \"/nonexistent/kubeconfig\" is not a file", "--kubeconfig", "/nonexistent/kubeconfig")]
    public async Task BadOptions_AreAUsageErrorNamingTheOption(string message, params string[] options)
    {
        var (exitCode, output, error) = await DsopRunner.RunAsync(["operator", .. options]);

        Assert.Equal(Dsop.UsageError, exitCode);
        Assert.Empty(output);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains("Run 'dsop operator --help' for usage.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KubeconfigThatIsNotOne_FailsBeforeServing()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "not: [a kubeconfig");

            var (exitCode, output, error) = await DsopRunner.RunAsync("operator", "--kubeconfig", file, "--metrics-port", "0", "--bind", "127.0.0.1");

            Assert.Equal(1, exitCode);
            Assert.Empty(output);
            Assert.StartsWith("dsop: cannot start the operator: ", error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task RunAgainstTheEmulator_DeploysTheTinySampleAndStopsCleanlyWhenInterrupted()
    {
        await using var emulator = await Emulator.StartAsync();
        var (kubeconfig, client) = (emulator.Kubeconfig, emulator.Client);
        var model = await ApplyTinySampleAsync(client);
        using var output = new LineWriter("operator ");
        using var error = new StringWriter();
        using var interrupt = new CancellationTokenSource();

        var run = Dsop.RunAsync(
            ["operator", "--kubeconfig", kubeconfig, "--namespace", Namespace, "--metrics-port", "0", "--bind", "127.0.0.1", "--runtime-image", "registry.local/dsop:test"],
            output,
            error,
            interrupt.Token);

        var line = await output.Seen.WaitAsync(Patience);
        Assert.Matches(@"^operator \S+: metrics and probes on http://127\.0\.0\.1:\d+; leader election on Lease default/deepseek-operator$", line);
        string[] names = ["tiny-router", "tiny-shard-0", "tiny-shard-1", "tiny-shard-2", "tiny-shard-3"];
        await EventuallyAsync(async () => (await client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items.Count == names.Length);
        var deployments = (await client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items;
        Assert.Equal(names, deployments.Select(d => d.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.All(deployments, d => Assert.Equal(model.Metadata.Uid, Assert.Single(d.Metadata.OwnerReferences).Uid));
        Assert.All(deployments, d => Assert.Equal("registry.local/dsop:test", d.Spec.Template.Spec.Containers[0].Image));

        await interrupt.CancelAsync();

        Assert.Equal(0, await run.WaitAsync(Patience));
        Assert.Empty(error.ToString());
    }

    [Fact]
    public async Task TwoWatchNamespaces_ModelsOfBothReconciled_ModelOfAThirdLeftAlone()
    {
        await using var emulator = await Emulator.StartAsync();
        var (kubeconfig, client) = (emulator.Kubeconfig, emulator.Client);
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
        foreach (var ns in new[] { "team-a", "team-b", "team-c" })
        {
            await CreateTinySampleAsync(client, ns);
        }

        using var output = new LineWriter("operator ");
        using var error = new StringWriter();
        using var interrupt = new CancellationTokenSource();
        var run = Dsop.RunAsync(
            ["operator", "--kubeconfig", kubeconfig, "--watch-namespace", "team-a", "--watch-namespace", "team-b", "--lease-namespace", "team-a", "--metrics-port", "0", "--bind", "127.0.0.1"],
            output,
            error,
            interrupt.Token);
        await output.Seen.WaitAsync(Patience);

        await EventuallyAsync(async () =>
            (await client.AppsV1.ListNamespacedDeploymentAsync("team-a")).Items.Count == 5 && (await client.AppsV1.ListNamespacedDeploymentAsync("team-b")).Items.Count == 5);
        await interrupt.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(Patience));

        // Both watched namespaces were fully reconciled by now; the third was never listed, so nothing was made there.
        Assert.Empty((await client.AppsV1.ListNamespacedDeploymentAsync("team-c")).Items);
        Assert.Empty(error.ToString());
    }

    [Fact]
    public async Task LeaseTakenByAnotherReplica_ExitsNonZeroSoThatTheKubeletRestartsIt()
    {
        await using var emulator = await Emulator.StartAsync();
        var (kubeconfig, client) = (emulator.Kubeconfig, emulator.Client);
        await ApplyTinySampleAsync(client);
        using var output = new LineWriter("operator ");
        using var error = new StringWriter();
        var run = Dsop.RunAsync(["operator", "--kubeconfig", kubeconfig, "--metrics-port", "0", "--bind", "127.0.0.1"], output, error, CancellationToken.None);
        await output.Seen.WaitAsync(Patience);
        await EventuallyAsync(async () => (await client.AppsV1.ListNamespacedDeploymentAsync(Namespace)).Items.Count > 0);

        // Another replica's identity in the Lease, renewed just now: this one must stop reconciling and exit.
        while (true)
        {
            var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync("deepseek-operator", "default");
            lease.Spec.HolderIdentity = "operator-elsewhere";
            lease.Spec.AcquireTime = lease.Spec.RenewTime = DateTime.UtcNow;
            lease.Spec.LeaseTransitions = (lease.Spec.LeaseTransitions ?? 0) + 1;
            try
            {
                await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, lease.Metadata.Name, "default");
                break;
            }
            catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
            }
        }

        Assert.Equal(1, await run.WaitAsync(Patience));
        Assert.Contains("dsop: the operator stopped: Lost leadership on Lease default/deepseek-operator", error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>An API server with a kubeconfig for it in a temporary directory, and a client; all gone when disposed.</summary>
    private sealed class Emulator : IAsyncDisposable
    {
        private readonly string directory;
        private readonly ApiServer server;

        private Emulator(string directory, ApiServer server)
        {
            this.directory = directory;
            this.server = server;
            Kubeconfig = Path.Combine(directory, "kubeconfig");
            server.WriteKubeconfig(Kubeconfig);
            Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig));
        }

        public string Kubeconfig { get; }

        public Kubernetes Client { get; }

        public static async Task<Emulator> StartAsync() =>
            new(Directory.CreateTempSubdirectory("dsop-operator-cli-").FullName, await ApiServer.StartAsync(new ApiServerOptions()));

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await server.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    // The CRD, the namespace and the tiny sample in it, once the API serves the new kind.
    private static async Task<DeepSeekModel> ApplyTinySampleAsync(Kubernetes client)
    {
        await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(CustomResourceDefinitions.DeepSeekModel());
        return await CreateTinySampleAsync(client, Namespace);
    }

    // The namespace and the tiny sample in it, once the API serves the new kind.
    private static async Task<DeepSeekModel> CreateTinySampleAsync(Kubernetes client, string ns)
    {
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        var read = DeepSeekModelManifest.Read(await File.ReadAllTextAsync(Repository.PathOf("config/samples/tiny-synthetic.yaml")));
        Assert.True(read.IsValid, string.Join("; ", read.Errors));
        var sample = read.Model!;
        sample.Metadata.NamespaceProperty = ns;
        object? created = null;
        await EventuallyAsync(async () =>
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
        });
        return KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(created));
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, "not within " + Patience);
            await Task.Delay(20);
        }
    }
}
