using DeepSeekOperator.Controller.Runtime;
using k8s;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Controller.Hosting;

/// <summary>
/// A controller and the informers it reads, as the operator host runs them for one term of leadership: the informers
/// are run and the controller waits for them to sync before its first reconcile.
/// </summary>
/// <param name="Controller">The controller, usually given the <paramref name="Informers"/> as its caches.</param>
/// <param name="Informers">The caches the host keeps current while it leads; <c>/readyz</c> waits for them to sync.</param>
public sealed record ManagedController(ReconcileController Controller, IReadOnlyList<IInformer> Informers);

/// <summary>
/// Builds a fresh <see cref="ManagedController"/> each time the host becomes leader (a work queue, once shut down, is
/// not reused), with the host's client, logging and metrics registry.
/// </summary>
public delegate ManagedController ControllerFactory(Kubernetes client, ILoggerFactory loggerFactory, CollectorRegistry registry);
