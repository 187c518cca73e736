using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Reconciling.Internal;
using DeepSeekOperator.Controller.Runtime;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Controller.Reconciling;

/// <summary>What the DeepSeekModel controller watches and how it runs.</summary>
public sealed record DeepSeekModelControllerOptions
{
    /// <summary>The operator's settings the children are built with.</summary>
    public required OperatorSettings Settings { get; init; }

    /// <summary>The namespace whose models are reconciled; null reconciles every namespace.</summary>
    public string? Namespace { get; init; }

    /// <summary>How many models are reconciled at once.</summary>
    public int Workers { get; init; } = 4;

    /// <summary>How often every model is reconciled again although nothing changed.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The clock of backoff, resyncs and status timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The DeepSeekModel controller: a cache of the models and one of each kind they own (of pods, the config.json readers),
/// a change to a child queueing its controlling model, and a <see cref="DeepSeekModelReconciler"/> that reads the
/// children from those caches.
/// </summary>
public static class DeepSeekModelController
{
    /// <summary>The component named on the controller's Events.</summary>
    public const string Component = "deepseek-operator";

    /// <summary>The <c>controller</c> label of the controller's reconcile and work-queue metrics.</summary>
    public const string Name = "deepseekmodel";

    /// <summary>A factory the operator host calls each time it becomes leader.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public static ControllerFactory Factory(DeepSeekModelControllerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var controllerOptions = new ControllerOptions { Name = Name, Workers = options.Workers };
        controllerOptions.Validate();
        var informerOptions = new InformerOptions { Namespace = options.Namespace, ResyncPeriod = options.ResyncPeriod };
        informerOptions.Validate();
        return (client, loggers, registry) => Build(client, loggers, registry, options, controllerOptions, informerOptions);
    }

    private static ManagedController Build(
        Kubernetes client, ILoggerFactory loggers, CollectorRegistry registry, DeepSeekModelControllerOptions options, ControllerOptions controllerOptions, InformerOptions informerOptions)
    {
        var time = options.Time;
        var queue = new WorkQueue<ObjectKey>(time, new ExponentialRateLimiter<ObjectKey>());
        var models = new Informer<DeepSeekModel>(client, informerOptions, time, loggers.CreateLogger<Informer<DeepSeekModel>>());

        // Children need no resync of their own: the models' resync reconciles them. The ServiceMonitor is not watched: its
        // CRD may be missing (a watch on it would fail until installed) and nothing is read back from it, so an edit or
        // deletion of it is put back by the models' resync, which also looks again for its CRD.
        // Of pods, only the config.json readers are watched: their phase and termination message drive the reconcile.
        var childOptions = informerOptions with { ResyncPeriod = TimeSpan.Zero, LabelSelector = ChildLabels.ManagedByKey + "=" + ChildLabels.ManagedBy };
        var readerOptions = childOptions with { LabelSelector = childOptions.LabelSelector + "," + ChildLabels.ComponentKey + "=" + ChildLabels.ConfigReader };
        var deployments = Owned<V1Deployment>(childOptions);
        var caches = new ModelCaches(
            models, deployments, Owned<V1Service>(childOptions), Owned<V1PodDisruptionBudget>(childOptions), Owned<V1ConfigMap>(childOptions),
            Owned<V1ServiceAccount>(childOptions), Owned<V1Role>(childOptions), Owned<V1RoleBinding>(childOptions), Owned<V1NetworkPolicy>(childOptions),
            Owned<V1Pod>(readerOptions),
            Autoscalers(informerOptions with { ResyncPeriod = TimeSpan.Zero }));
        var informers = caches.All;
        ReplicaGauges.Register(registry, deployments);
        var reconciler = new DeepSeekModelReconciler(
            caches, client, options.Settings, new EventRecorder(client, Component, time, loggers.CreateLogger<EventRecorder>()), time, options.ResyncPeriod,
            loggers.CreateLogger<DeepSeekModelReconciler>());

        // The model's own status writes come back as updates: those queue nothing (controller-runtime users filter them
        // with a predicate), while a resync (the same object twice), a spec or metadata change, and a status written by
        // anyone else (the autoscaler's decisions, which the children follow) do.
        models.AddHandlers(new InformerHandlers<DeepSeekModel>
        {
            Added = model => queue.Add(ObjectKey.Of(model)),
            Updated = (old, model) =>
            {
                if (ReferenceEquals(old, model) || !reconciler.IsOwnStatusUpdate(old, model))
                {
                    queue.Add(ObjectKey.Of(model));
                }
            },
            Deleted = model => queue.Add(ObjectKey.Of(model)),
        });
        var controller = new ReconcileController(reconciler, queue, informers, controllerOptions, registry, time, loggers.CreateLogger<ReconcileController>());
        return new ManagedController(controller, informers);

        // A HorizontalPodAutoscaler (KEDA's, or the user's) that starts or stops targeting a router or shard Deployment
        // changes who sets its replicas: its model is reconciled.
        Informer<V2HorizontalPodAutoscaler> Autoscalers(InformerOptions autoscalerOptions)
        {
            var informer = new Informer<V2HorizontalPodAutoscaler>(client, autoscalerOptions, time, loggers.CreateLogger<Informer<V2HorizontalPodAutoscaler>>());
            void Target(V2HorizontalPodAutoscaler hpa)
            {
                if (hpa.Spec?.ScaleTargetRef is { Kind: "Deployment", Name: { } name } && deployments.Get(new ObjectKey(hpa.Metadata.NamespaceProperty ?? "", name)) is { } target)
                {
                    EnqueueOwner(queue, target);
                }
            }

            informer.AddHandlers(new InformerHandlers<V2HorizontalPodAutoscaler>
            {
                Added = Target,
                Updated = (old, hpa) =>
                {
                    Target(old);
                    Target(hpa);
                },
                Deleted = Target,
            });
            return informer;
        }

        Informer<T> Owned<T>(InformerOptions ownedOptions)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            var informer = new Informer<T>(client, ownedOptions, time, loggers.CreateLogger<Informer<T>>());
            informer.AddHandlers(new InformerHandlers<T>
            {
                Added = child => EnqueueOwner(queue, child),
                Changed = child => EnqueueOwner(queue, child),
                Deleted = child => EnqueueOwner(queue, child),
            });
            return informer;
        }
    }

    // A child's change queues the DeepSeekModel that controls it, which lives in the child's namespace.
    private static void EnqueueOwner(WorkQueue<ObjectKey> queue, IKubernetesObject<V1ObjectMeta> child)
    {
        var owner = child.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        if (owner is { Kind: DeepSeekModel.KindName } && owner.ApiVersion.StartsWith(DeepSeekModel.Group + "/", StringComparison.Ordinal))
        {
            queue.Add(new ObjectKey(child.Metadata.NamespaceProperty ?? "", owner.Name));
        }
    }
}
