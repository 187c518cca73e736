using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>
/// The rebalancer's controller: its own cache of the models (a change queues the model, the rebalancer's requeues pace
/// it by <c>rebalanceInterval</c>) and one of the operator's router pods, and a <see cref="Rebalancer"/> over them.
/// </summary>
public static class RebalancerController
{
    /// <summary>The component named on the rebalancer's Events.</summary>
    public const string Component = "deepseek-operator-rebalancer";

    /// <summary>The <c>controller</c> label of the rebalancer's reconcile and work-queue metrics.</summary>
    public const string Name = "rebalancer";

    // One client for every leadership term: routers are plain HTTP on pod IPs, and sockets are worth reusing.
    private static readonly HttpClient Http = new(RouterHandler()) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>
    /// The handler of the calls to routers. They go to pod IPs, which only the cluster network reaches, so never
    /// through a proxy: the <c>HTTP_PROXY</c> an operator may be given for other calls would take them, and .NET's
    /// <c>NO_PROXY</c> matches host names, domain suffixes and single addresses but not the pod CIDRs.
    /// </summary>
    internal static SocketsHttpHandler RouterHandler() => new() { PooledConnectionLifetime = TimeSpan.FromMinutes(5), UseProxy = false };

    /// <summary>A factory the operator host calls each time it becomes leader.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public static ControllerFactory Factory(RebalancerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var controllerOptions = new ControllerOptions { Name = Name, Workers = options.Workers };
        controllerOptions.Validate();
        return (client, loggers, registry) => Build(client, loggers, registry, options, controllerOptions);
    }

    private static ManagedController Build(Kubernetes client, ILoggerFactory loggers, CollectorRegistry registry, RebalancerOptions options, ControllerOptions controllerOptions)
    {
        var time = options.Time;
        var queue = new WorkQueue<ObjectKey>(time, new ExponentialRateLimiter<ObjectKey>());
        var models = new Informer<DeepSeekModel>(client, new InformerOptions { Namespace = options.Namespace }, time, loggers.CreateLogger<Informer<DeepSeekModel>>());
        models.AddHandlers(new InformerHandlers<DeepSeekModel>
        {
            Added = model => queue.Add(ObjectKey.Of(model)),
            Changed = model => queue.Add(ObjectKey.Of(model)),
            Deleted = model => queue.Add(ObjectKey.Of(model)),
        });
        var routerPods = new Informer<V1Pod>(
            client,
            new InformerOptions
            {
                Namespace = options.Namespace,
                ResyncPeriod = TimeSpan.Zero,
                LabelSelector = $"{ChildLabels.ManagedByKey}={ChildLabels.ManagedBy},{ChildLabels.ComponentKey}={ChildLabels.Router}",
            },
            time,
            loggers.CreateLogger<Informer<V1Pod>>());
        IInformer[] informers = [models, routerPods];
        var rebalancer = new Rebalancer(
            models, routerPods, client, Http, new EventRecorder(client, Component, time, loggers.CreateLogger<EventRecorder>()), registry, options, loggers.CreateLogger<Rebalancer>());
        var controller = new ReconcileController(rebalancer, queue, informers, controllerOptions, registry, time, loggers.CreateLogger<ReconcileController>());
        return new ManagedController(controller, informers);
    }
}
