using DeepSeekOperator.Tests;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Tests.Kubectl;

/// <summary>
/// A running API emulator with a kubeconfig written by <see cref="ApiServer.WriteKubeconfig"/>, the kubectl that uses
/// it, and an official client for arranging and checking state behind kubectl's back.
/// </summary>
internal sealed class KubectlCluster : IAsyncDisposable
{
    /// <summary>The project's CRD, as users apply it.</summary>
    public static readonly string CrdPath = Repository.PathOf("crds/deepseekmodels.moe.deepseek-operator.io.yaml");

    /// <summary>The sample DeepSeekModel <c>tiny</c>, which names no namespace.</summary>
    public static readonly string TinySamplePath = Repository.PathOf("config/samples/tiny-synthetic.yaml");

    private readonly RunningApiServer running;
    private readonly string directory;

    private KubectlCluster(RunningApiServer running, string directory)
    {
        this.running = running;
        this.directory = directory;
        KubeconfigPath = Path.Combine(directory, "kubeconfig");
        running.Server.WriteKubeconfig(KubeconfigPath);
        Kubectl = new Kubectl(KubeconfigPath, directory);
    }

    public ApiServer Server => running.Server;

    public Kubernetes Client => running.Client;

    public string KubeconfigPath { get; }

    public Kubectl Kubectl { get; }

    public static async Task<KubectlCluster> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("dsop-kubectl-").FullName;
        return new KubectlCluster(await RunningApiServer.StartAsync(), directory);
    }

    /// <summary>Runs kubectl with these arguments.</summary>
    public Task<KubectlResult> RunAsync(params string[] args) => Kubectl.RunAsync(args);

    /// <summary>Runs kubectl with these arguments and fails the test unless it exits 0.</summary>
    public async Task<KubectlResult> RunOkAsync(params string[] args)
    {
        var result = await Kubectl.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"kubectl {string.Join(' ', args)} failed: {result}");
        return result;
    }

    /// <summary><c>kubectl apply -f -</c> of <paramref name="yaml"/>, which must succeed.</summary>
    public async Task<KubectlResult> ApplyAsync(string yaml, params string[] args)
    {
        var result = await Kubectl.RunWithInputAsync(yaml, ["apply", "-f", "-", .. args]);
        Assert.True(result.ExitCode == 0, $"kubectl apply failed: {result}\n{yaml}");
        return result;
    }

    /// <summary>Applies the project's CRD with kubectl and waits until it is Established.</summary>
    public async Task InstallCrdAsync()
    {
        await RunOkAsync("apply", "-f", CrdPath);
        await RunOkAsync("wait", "--for=condition=Established", "crd/deepseekmodels.moe.deepseek-operator.io", "--timeout=20s");
    }

    /// <summary>Creates a namespace through the API (kubectl create namespace sends protobuf) and returns its name.</summary>
    public async Task<string> CreateNamespaceAsync(string name)
    {
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        await running.DisposeAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
