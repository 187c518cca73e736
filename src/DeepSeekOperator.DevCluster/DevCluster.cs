using DeepSeekOperator.DevCluster.Internal.Kubelet;
using DeepSeekOperator.DevCluster.Internal.Networking;
using DeepSeekOperator.DevCluster.Internal.Policy;
using DeepSeekOperator.DevCluster.Internal.Scheduling;
using DeepSeekOperator.DevCluster.Internal.Workloads;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster;

/// <summary>
/// The whole development cluster on one machine: the API server, the workload controllers, the scheduler with its
/// virtual nodes, the service proxy (cluster IPs on loopback), and the pod runner that runs pods as local processes (or simulates them). For development and
/// tests only; production is always real Kubernetes.
/// </summary>
public sealed class DevCluster : IAsyncDisposable
{
    private readonly string runtimeDirectory;
    private readonly bool ownsRuntimeDirectory;

    private DevCluster(ApiServer api, string runtimeDirectory, bool ownsRuntimeDirectory)
    {
        Api = api;
        this.runtimeDirectory = runtimeDirectory;
        this.ownsRuntimeDirectory = ownsRuntimeDirectory;
    }

    /// <summary>The API server (endpoints, token, CA, kubeconfig).</summary>
    public ApiServer Api { get; }

    /// <summary>Where pods' volumes and logs live.</summary>
    public string RuntimeDirectory => runtimeDirectory;

    /// <summary>Starts everything; objects in the state directory, if any, come back with it.</summary>
    public static async Task<DevCluster> StartAsync(DevClusterOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var owns = options.RuntimeDirectory is null;
        var runtime = options.RuntimeDirectory ?? Directory.CreateTempSubdirectory("dsop-dev-cluster-").FullName;
        Directory.CreateDirectory(runtime);
        loggerFactory ??= Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        var api = await ApiServer.StartAsync(options.Api, loggerFactory, cancellationToken);
        var objects = api.Objects;
        IReadOnlyList<NodeSpec> nodes = options.Nodes.Count == 0
            ? [NodeSpec.Default()]
            : [.. options.Nodes.Select(n => new NodeSpec { Name = n.Name, Cpu = n.Cpu, Memory = n.Memory, Gpus = n.Gpus, Pods = n.Pods })];
        api.RunBeside(new VirtualNodes(objects, nodes, loggerFactory).RunAsync);
        api.RunBeside(new Scheduler(objects, loggerFactory).RunAsync);
        api.RunBeside(new WorkloadControllers(objects, loggerFactory).RunAsync);
        api.RunBeside(new EndpointSliceController(objects, loggerFactory).RunAsync);
        api.RunBeside(new EndpointsController(objects, loggerFactory).RunAsync);
        api.RunBeside(new ServiceProxy(objects, loggerFactory).RunAsync);
        api.RunBeside(new DisruptionController(objects, loggerFactory).RunAsync);
        var runner = new PodRunner(objects, new PodRunnerOptions
        {
            NodeNames = [.. nodes.Select(n => n.Name)],
            RootDirectory = runtime,
            Images = options.ImageCommands,
            Credentials = new ServiceAccountCredentials(api.HttpsUri, api.CertificateAuthorityPem, api.Token),
        }, loggerFactory);
        api.PodLogs = runner;
        api.RunBeside(runner.RunAsync);
        return new DevCluster(api, runtime, owns);
    }

    /// <summary>Stops the pod runner (terminating every process), the controllers and the API server.</summary>
    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        if (ownsRuntimeDirectory)
        {
            try
            {
                Directory.Delete(runtimeDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
