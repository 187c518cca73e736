using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling.Internal;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Controller.Autoscaling;

/// <summary>What the autoscaler watches and how it runs.</summary>
public sealed record ModelAutoscalerOptions
{
    /// <summary>The namespace whose models are scaled; null scales those of every namespace.</summary>
    public string? Namespace { get; init; }

    /// <summary>How many models are scaled at once.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>How long a Prometheus query may take; a model's interval, when shorter, bounds it too.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock of the intervals, the stabilization windows, the query deadlines and the status timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Throws when a setting is out of range, naming it.</summary>
    public void Validate()
    {
        if (Workers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "Workers must be at least 1.");
        }

        if (QueryTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(QueryTimeout), QueryTimeout, "QueryTimeout must be positive.");
        }
    }
}

/// <summary>
/// The operator's autoscaler, a second controller the leader runs beside the DeepSeekModel controller: for every
/// model with <c>spec.autoscaling.enabled</c>, every <c>interval</c>, it reads the load of the routers and of each shard
/// separately from the model's <c>prometheusUrl</c> (<see cref="MetricQueries"/>), decides their replicas as a
/// HorizontalPodAutoscaler would (<see cref="ReplicaCalculator"/>), and records the decision in
/// <c>status.autoscaling</c> before writing it to the Deployments' <c>scale</c>; each change is an Event
/// (<c>ScaledUp</c>/<c>ScaledDown</c>, with the load and target), and <c>dsop_autoscaler_desired_replicas</c> and
/// <c>dsop_autoscaler_metric_value</c> follow every component; a component that starts being held back (at a bound or
/// by a rate) for a new reason gets a Normal <c>ScalingLimited</c> Event, once per change. A component whose load cannot be read keeps its
/// replicas, and the model gets a Warning Event (once per failure streak) and <c>ScalingLimited=True</c> with reason
/// <c>MetricsUnavailable</c>. A model whose autoscaling is turned off, or that is deleted, loses its timer and gauges;
/// one turned off also loses its <c>status.autoscaling</c> and ScalingLimited condition.
/// </summary>
public static class ModelAutoscaler
{
    /// <summary>The component named on the autoscaler's Events.</summary>
    public const string Component = "deepseek-operator-autoscaler";

    /// <summary>The <c>controller</c> label of the autoscaler's reconcile and work-queue metrics.</summary>
    public const string Name = "autoscaler";

    /// <summary>The ScalingLimited reason while a component's load cannot be read.</summary>
    public const string MetricsUnavailable = AutoscalerReconciler.MetricsUnavailable;

    /// <summary>The reason of the Normal Event recorded when a component starts being held back for a new reason.</summary>
    public const string ScalingLimited = AutoscalerReconciler.ScalingLimited;

    /// <summary>A factory the operator host calls each time it becomes leader; the Prometheus clients outlive the terms.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public static ControllerFactory Factory(ModelAutoscalerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var controllerOptions = new ControllerOptions { Name = Name, Workers = options.Workers };
        var prometheus = new PrometheusClients(options.Time, options.QueryTimeout);
        return (client, loggers, registry) => Build(client, loggers, registry, options, controllerOptions, prometheus);
    }

    private static ManagedController Build(
        Kubernetes client, ILoggerFactory loggers, CollectorRegistry registry, ModelAutoscalerOptions options, ControllerOptions controllerOptions, PrometheusClients prometheus)
    {
        var time = options.Time;
        var queue = new WorkQueue<ObjectKey>(time, new ExponentialRateLimiter<ObjectKey>());

        // The passes requeue themselves every interval: no resync. Status writes (this controller's and the
        // reconciler's) leave the generation alone and queue nothing.
        var modelOptions = new InformerOptions { Namespace = options.Namespace, ResyncPeriod = TimeSpan.Zero };
        var models = new Informer<DeepSeekModel>(client, modelOptions, time, loggers.CreateLogger<Informer<DeepSeekModel>>());
        models.AddHandlers(new InformerHandlers<DeepSeekModel>
        {
            Added = model => queue.Add(ObjectKey.Of(model)),
            Updated = (old, model) =>
            {
                if (old.Metadata.Generation != model.Metadata.Generation)
                {
                    queue.Add(ObjectKey.Of(model));
                }
            },
            Deleted = model => queue.Add(ObjectKey.Of(model)),
        });
        var deploymentOptions = modelOptions with { LabelSelector = ChildLabels.ManagedByKey + "=" + ChildLabels.ManagedBy };
        // Only the replicas of a Deployment are read here (the scale is written through its subresource): the pod
        // template and status, most of each object, are not cached.
        var deployments = new Informer<V1Deployment>(
            client, deploymentOptions, time, loggers.CreateLogger<Informer<V1Deployment>>(),
            deployment =>
            {
                deployment.Spec = new V1DeploymentSpec { Replicas = deployment.Spec?.Replicas };
                deployment.Status = null;
            });
        var reconciler = new AutoscalerReconciler(
            models, deployments, client, prometheus, new EventRecorder(client, Component, time, loggers.CreateLogger<EventRecorder>()), new AutoscalerGauges(registry), time,
            loggers.CreateLogger(typeof(ModelAutoscaler)));
        IInformer[] informers = [models, deployments];
        var controller = new ReconcileController(reconciler, queue, informers, controllerOptions, registry, time, loggers.CreateLogger<ReconcileController>());
        return new ManagedController(controller, informers);
    }
}
