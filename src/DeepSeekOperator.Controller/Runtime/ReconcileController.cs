using DeepSeekOperator.Controller.Runtime.Internal;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Controller.Runtime;

/// <summary>
/// Runs workers over a <see cref="WorkQueue{TKey}"/> that call an <see cref="IReconciler"/> (controller-runtime's
/// <c>Controller</c>): it waits for every cache to sync before the first reconcile; a failure or exception requeues the
/// key with exponential backoff; a key is never reconciled by two workers at once (the queue's guarantee); and on
/// shutdown workers stop taking keys while reconciles in flight finish, for at most
/// <see cref="ControllerOptions.ShutdownTimeout"/>, after which they are cancelled.
/// </summary>
public sealed class ReconcileController
{
    private readonly IReconciler reconciler;
    private readonly WorkQueue<ObjectKey> queue;
    private readonly IReadOnlyList<ISyncedCache> caches;
    private readonly ControllerOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Counter.Child success;
    private readonly Counter.Child requeue;
    private readonly Counter.Child failure;
    private readonly Counter.Child errors;
    private readonly Histogram.Child duration;

    /// <summary>
    /// Creates a controller whose metrics are registered in <paramref name="registry"/> with the label
    /// <c>controller</c> = <see cref="ControllerOptions.Name"/>: <c>dsop_reconcile_total{controller,result}</c>,
    /// <c>dsop_reconcile_errors_total{controller}</c>, <c>dsop_reconcile_time_seconds{controller}</c> and
    /// <c>dsop_workqueue_depth{controller}</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the message names it).</exception>
    public ReconcileController(
        IReconciler reconciler,
        WorkQueue<ObjectKey> queue,
        IReadOnlyList<ISyncedCache> caches,
        ControllerOptions options,
        CollectorRegistry registry,
        TimeProvider time,
        ILogger<ReconcileController> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registry);
        options.Validate();
        this.reconciler = reconciler;
        this.queue = queue;
        this.caches = caches;
        this.options = options;
        this.time = time;
        this.logger = logger;

        var name = options.Name;
        var metrics = Metrics.WithCustomRegistry(registry);
        var reconciles = metrics.CreateCounter("dsop_reconcile_total", "Reconciles by controller and result: success, requeue or error.",
            new CounterConfiguration { LabelNames = ["controller", "result"] });
        (success, requeue, failure) = (reconciles.WithLabels(name, "success"), reconciles.WithLabels(name, "requeue"), reconciles.WithLabels(name, "error"));
        errors = metrics.CreateCounter("dsop_reconcile_errors_total", "Reconciles that failed or threw, by controller.",
            new CounterConfiguration { LabelNames = ["controller"] }).WithLabels(name);
        duration = metrics.CreateHistogram("dsop_reconcile_time_seconds", "How long each reconcile took, by controller.",
            new HistogramConfiguration { LabelNames = ["controller"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) }).WithLabels(name);
        var depth = metrics.CreateGauge("dsop_workqueue_depth", "Keys waiting in the controller's work queue.",
            new GaugeConfiguration { LabelNames = ["controller"] }).WithLabels(name);
        registry.AddBeforeCollectCallback(() => depth.Set(queue.Count));
    }

    /// <summary>
    /// Waits for the caches, then reconciles keys until <paramref name="cancellationToken"/> is cancelled; returns when
    /// the reconciles in flight have finished (or been cancelled after the shutdown timeout) and the queue is shut down.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            RuntimeLog.WaitingForCaches(logger, caches.Count);
            await Task.WhenAll(caches.Select(cache => cache.WaitForSyncAsync(cancellationToken))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            queue.ShutDown();
            return;
        }

        RuntimeLog.Started(logger, options.Workers);
        using var abort = new CancellationTokenSource();
        var workers = Task.WhenAll(Enumerable.Range(0, options.Workers).Select(_ => Task.Run(() => WorkAsync(cancellationToken, abort.Token), CancellationToken.None)));
        await workers.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!workers.IsCompleted)
        {
            RuntimeLog.Stopping(logger, options.ShutdownTimeout);
            try
            {
                await workers.WaitAsync(options.ShutdownTimeout, time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                RuntimeLog.ShutdownTimedOut(logger, options.ShutdownTimeout);
                await abort.CancelAsync().ConfigureAwait(false);
                await workers.ConfigureAwait(false);
            }
        }

        queue.ShutDown();
    }

    // Takes keys until told to stop; a reconcile already started runs on with its own token, cancelled only on abort.
    private async Task WorkAsync(CancellationToken stopTaking, CancellationToken abort)
    {
        while (true)
        {
            WorkItem<ObjectKey>? item;
            try
            {
                item = await queue.GetAsync(stopTaking).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopTaking.IsCancellationRequested)
            {
                return;
            }

            if (item is not { Key: var key })
            {
                return;
            }

            try
            {
                await ReconcileAsync(key, abort).ConfigureAwait(false);
            }
            finally
            {
                queue.Done(key);
            }
        }
    }

    private async Task ReconcileAsync(ObjectKey key, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            var result = await reconciler.ReconcileAsync(key, cancellationToken).ConfigureAwait(false);
            switch (result.Outcome)
            {
                case ReconcileOutcome.Done:
                    queue.Forget(key);
                    success.Inc();
                    break;
                case ReconcileOutcome.Requeue:
                    queue.Forget(key);
                    queue.AddAfter(key, result.RequeueAfter);
                    requeue.Inc();
                    break;
                default:
                    var delay = Backoff(key);
                    RuntimeLog.ReconcileFailed(logger, key.ToString(), result.Error ?? "", delay);
                    break;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled by a shutdown that ran out of time; the next leader or start reconciles the key.
        }
        catch (Exception exception)
        {
            var delay = Backoff(key);
            RuntimeLog.ReconcileThrew(logger, key.ToString(), delay, exception);
        }
        finally
        {
            duration.Observe(time.GetElapsedTime(started).TotalSeconds);
        }
    }

    private TimeSpan Backoff(ObjectKey key)
    {
        failure.Inc();
        errors.Inc();
        var delay = queue.RateLimiter.When(key);
        queue.AddAfter(key, delay);
        return delay;
    }
}
