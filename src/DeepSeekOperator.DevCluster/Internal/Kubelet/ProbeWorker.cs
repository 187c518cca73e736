using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>The kinds of container probe, named as the kubelet names them in events.</summary>
internal enum ProbeKind
{
    Startup,
    Readiness,
    Liveness,
}

/// <summary>
/// Probes one container instance periodically, as the kubelet's prober worker does: the first attempt after
/// <c>initialDelaySeconds</c>, then every <c>periodSeconds</c>, each within <c>timeoutSeconds</c>; the result flips to
/// success after <c>successThreshold</c> consecutive successes and to failure after <c>failureThreshold</c> consecutive
/// failures. Readiness starts as failure, liveness as success, startup as unknown; readiness and liveness wait for
/// startup to succeed. Every failed attempt is reported (the kubelet's <c>Unhealthy</c> event).
/// </summary>
internal sealed class ProbeWorker
{
    private readonly JsonObject probe;
    private readonly Func<ProbeKind, bool> startupSucceeded;
    private readonly Action<ProbeWorker, ProbeOutcome> failed;
    private readonly Action<ProbeWorker> changed;
    private volatile int result;

    public ProbeWorker(ProbeKind kind, JsonObject probe, Func<ProbeKind, bool> startupSucceeded, Action<ProbeWorker, ProbeOutcome> failed, Action<ProbeWorker> changed)
    {
        Kind = kind;
        this.probe = probe;
        this.startupSucceeded = startupSucceeded;
        this.failed = failed;
        this.changed = changed;
        result = kind switch
        {
            ProbeKind.Readiness => (int)ProbeState.Failure,
            ProbeKind.Liveness => (int)ProbeState.Success,
            _ => (int)ProbeState.Unknown,
        };
    }

    /// <summary>The three states of a probe's result.</summary>
    public enum ProbeState
    {
        Unknown,
        Success,
        Failure,
    }

    public ProbeKind Kind { get; }

    public ProbeState Result => (ProbeState)result;

    /// <summary>The probe's own grace period for the kill that follows its failure, if it sets one.</summary>
    public long? TerminationGracePeriodSeconds => Json.Int64(probe["terminationGracePeriodSeconds"]);

    /// <summary>Probes until <paramref name="cancellationToken"/> fires (the instance exited) or a liveness or startup probe fails for good.</summary>
    public async Task RunAsync(Prober prober, ProbeTarget target, DateTimeOffset startedAt, TimeProvider time, CancellationToken cancellationToken)
    {
        var initialDelay = TimeSpan.FromSeconds(Json.Int64(probe["initialDelaySeconds"]) ?? 0);
        var period = TimeSpan.FromSeconds(Math.Max(1, Json.Int64(probe["periodSeconds"]) ?? 10));
        var timeout = TimeSpan.FromSeconds(Math.Max(1, Json.Int64(probe["timeoutSeconds"]) ?? 1));
        var successThreshold = Math.Max(1, Json.Int64(probe["successThreshold"]) ?? 1);
        var failureThreshold = Math.Max(1, Json.Int64(probe["failureThreshold"]) ?? 3);
        var successes = 0L;
        var failures = 0L;
        try
        {
            var wait = startedAt + initialDelay - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            while (!cancellationToken.IsCancellationRequested)
            {
                if (Kind == ProbeKind.Startup || startupSucceeded(Kind))
                {
                    var outcome = await prober.RunAsync(probe, target, timeout, cancellationToken);
                    if (outcome.Success)
                    {
                        failures = 0;
                        if (++successes >= successThreshold)
                        {
                            Set(ProbeState.Success);
                            if (Kind == ProbeKind.Startup)
                            {
                                return;
                            }
                        }
                    }
                    else
                    {
                        successes = 0;
                        failed(this, outcome);
                        if (++failures >= failureThreshold)
                        {
                            Set(ProbeState.Failure);
                            if (Kind != ProbeKind.Readiness)
                            {
                                return;
                            }
                        }
                    }
                }

                await Task.Delay(period, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void Set(ProbeState state)
    {
        if (Interlocked.Exchange(ref result, (int)state) != (int)state)
        {
            changed(this);
        }
    }
}
