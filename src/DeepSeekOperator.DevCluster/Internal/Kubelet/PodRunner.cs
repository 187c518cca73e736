using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Http;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// The dev cluster's kubelet: runs the pods bound to <see cref="PodRunnerOptions.NodeNames"/> as local processes (images
/// mapped in <see cref="PodRunnerOptions.Images"/>) or simulated (every other image), each pod on its own loopback
/// address, and serves their logs to <c>pods/log</c>. No process it starts outlives it: on cancellation it stops them
/// all and waits, and a watchdog kills them if the dev cluster's process dies.
/// </summary>
/// <remarks>
/// A mapped container runs as Kubernetes composes a container's command from the image: the mapped command plays the
/// image's ENTRYPOINT (the image has no CMD); a container's <c>command</c> replaces it and its <c>args</c> follow
/// either. Paths under a <c>volumeMounts[].mountPath</c> in the command, args, env values and working directory are
/// rewritten to the volume's host directory (see <see cref="ContainerMounts"/>).
/// </remarks>
internal sealed class PodRunner : IPodLogSource
{
    private readonly ObjectService objects;
    private readonly PodRunnerOptions options;
    private readonly ILoggerFactory loggerFactory;
    private Kubelet? kubelet;

    public PodRunner(ObjectService objects, PodRunnerOptions options, ILoggerFactory loggerFactory)
    {
        this.objects = objects;
        this.options = options;
        this.loggerFactory = loggerFactory;
    }

    /// <summary>Runs the pods until <paramref name="cancellationToken"/> fires, then stops every process and waits for them.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.RootDirectory);
        using var guard = ProcessGuard.Start();
        using var prober = new Prober(guard);
        var running = new Kubelet(objects, options, guard, prober, loggerFactory);
        kubelet = running;
        try
        {
            await running.RunAsync(cancellationToken);
        }
        finally
        {
            await running.StopAllAsync();
        }
    }

    public async Task<bool> StreamAsync(JsonObject pod, string container, PodLogOptions options, Stream output, CancellationToken cancellationToken)
    {
        var rt = kubelet?.Find(Meta.Uid(pod));
        if (rt is null || !rt.Containers.TryGetValue(container, out var runtime) || runtime.Current is null)
        {
            return false;
        }

        ContainerInstance instance;
        if (options.Previous)
        {
            instance = runtime.Previous ?? throw ApiException.BadRequest($"previous terminated container \"{container}\" in pod \"{Meta.Name(pod)}\" not found");
        }
        else
        {
            instance = runtime.Current;
        }

        if (instance.Log is { } log)
        {
            await log.StreamAsync(options, output, cancellationToken);
        }

        return true;
    }
}
