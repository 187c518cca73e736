using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Workloads;

/// <summary>
/// The workload loops of kube-controller-manager that turn Deployments and StatefulSets into pods: the Deployment,
/// ReplicaSet and StatefulSet controllers, each on its own worker, all writing through the API like any client.
/// Run them beside the API server: <c>server.RunBeside(new WorkloadControllers(server.Objects, loggerFactory).RunAsync)</c>.
/// Pods they create stay Pending until a scheduler binds them and a kubelet runs them.
/// </summary>
internal sealed class WorkloadControllers(ObjectService objects, ILoggerFactory loggerFactory)
{
    private readonly DeploymentController deployments = new(objects, loggerFactory);
    private readonly ReplicaSetController replicaSets = new(objects, loggerFactory);
    private readonly StatefulSetController statefulSets = new(objects, loggerFactory);

    /// <summary>Runs every controller until <paramref name="cancellationToken"/> fires.</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(deployments.RunAsync(cancellationToken), replicaSets.RunAsync(cancellationToken), statefulSets.RunAsync(cancellationToken));
}
