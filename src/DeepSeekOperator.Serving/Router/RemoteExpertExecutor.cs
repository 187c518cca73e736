using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Router.Internal;
using DeepSeekOperator.Serving.Tensors;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Router;

/// <summary>
/// The router's <see cref="IExpertExecutor"/> (DESIGN.md §6): the routed experts live in expert-shard processes.
/// Each layer step is split by shard (a token sent once per shard, copies of an expert chosen by load), every
/// shard is called in parallel, and the partial results are summed.
/// </summary>
/// <remarks>
/// Replicas come from the resolver: one reused HTTP/2 cleartext channel per endpoint, round robin over a shard's
/// replicas, a failed call retried once on another replica and the failed one skipped for a while. A new
/// placement revision is taken up without a restart once every shard has a replica serving it
/// (<see cref="RunAsync"/>); a step runs wholly on the revision it started with.
/// </remarks>
public sealed class RemoteExpertExecutor : IExpertExecutor, IAsyncDisposable
{
    private const string CallName = "expert_shard.call";

    private readonly RemoteExpertOptions _options;
    private readonly IShardResolver _resolver;
    private readonly RouterMetrics _metrics;
    private readonly ILogger<RemoteExpertExecutor> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Shard, ShardEndpoint Endpoint), ShardReplica> _byEndpoint = [];
    private readonly int[] _nextReplica;
    private volatile ExpertLocator _locator;
    private volatile ShardReplica[][] _replicas = [];
    private ExpertLocator? _pending;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastStep;
    private bool _disposed;

    /// <summary>Dispatches with <paramref name="placement"/> to the replicas <paramref name="resolver"/> finds.</summary>
    /// <param name="options">The model and how shards are called.</param>
    /// <param name="placement">The placement to dispatch with until <see cref="RunAsync"/> switches to a newer one.</param>
    /// <param name="resolver">Where the shards' replicas are; its current snapshot is used at once.</param>
    /// <param name="metrics">Where calls, failures and the placement revision are counted.</param>
    /// <param name="logger">Where replica changes, failed calls and placement switches are logged.</param>
    /// <param name="time">The clock of deadlines, cooldowns and probes (the system's by default).</param>
    /// <exception cref="ArgumentException">An option is out of range, or the placement has another number of shards than the resolver.</exception>
    /// <exception cref="PlacementException">The placement does not fit the model.</exception>
    public RemoteExpertExecutor(RemoteExpertOptions options, ExpertPlacement placement, IShardResolver resolver, RouterMetrics metrics, ILogger<RemoteExpertExecutor> logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _locator = new ExpertLocator(placement, options.Config);
        if (placement.Shards != resolver.Shards)
        {
            throw new ArgumentException($"placement revision {placement.Revision} has {placement.Shards} shards but the resolver finds replicas for {resolver.Shards}", nameof(placement));
        }

        _options = options;
        _resolver = resolver;
        _metrics = metrics;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _nextReplica = new int[resolver.Shards];
        UseReplicas(resolver.Current);
        metrics.PlacementRevision.Set(placement.Revision);
        metrics.Registry.AddBeforeCollectCallback(PublishReplicas);

        // Each shard's failure count exists from the start at 0, so that rate() over it reads 0 rather than nothing
        // until a first failure (dashboards and alerts would otherwise show no data for a healthy model).
        for (var shard = 0; shard < placement.Shards; shard++)
        {
            metrics.DispatchFailures.WithLabels(shard.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The placement steps are dispatched with now.</summary>
    public ExpertPlacement Placement => _locator.Placement;

    /// <summary>
    /// The placement revision steps are dispatched with, the one waiting for every shard to serve it, and each shard's
    /// replicas as their last call or probe left them.
    /// </summary>
    /// <param name="modelId">The model named in the answer.</param>
    public RouterPlacementState PlacementState(string modelId)
    {
        long current;
        long? pending;
        lock (_gate)
        {
            current = _locator.Placement.Revision;
            pending = _pending?.Placement.Revision;
        }

        var replicas = _replicas;
        var shards = Enumerable.Range(0, _locator.Placement.Shards)
            .Select(shard => new ShardPlacementState(shard, shard < replicas.Length ? [.. replicas[shard].Select(r => r.State())] : []))
            .ToList();
        return new RouterPlacementState(modelId, current, pending, shards);
    }

    /// <summary>
    /// The shards of <see cref="Placement"/> with no reachable replica (none known, or the last call or probe of
    /// each failed), in order: the router is ready when this is empty.
    /// </summary>
    public IReadOnlyList<int> UnreachableShards
    {
        get
        {
            var replicas = _replicas;
            return [.. Enumerable.Range(0, Placement.Shards).Where(s => s >= replicas.Length || !replicas[s].Any(r => r.Reachable))];
        }
    }

    // dsop_router_shard_replicas as the last calls and probes left the replicas, read when /metrics is scraped.
    private void PublishReplicas()
    {
        var replicas = _replicas;
        for (var shard = 0; shard < Placement.Shards; shard++)
        {
            var known = shard < replicas.Length ? replicas[shard] : [];
            var reachable = known.Count(r => r.Reachable);
            var label = shard.ToString(CultureInfo.InvariantCulture);
            _metrics.ShardReplicas.WithLabels(label, "reachable").Set(reachable);
            _metrics.ShardReplicas.WithLabels(label, "unreachable").Set(known.Length - reachable);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The hidden states do not match the assignments or the model, or are neither float32 nor bfloat16.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not an MoE layer, or an expert id is out of range.</exception>
    /// <exception cref="ShardUnavailableException">A shard answered from none of its replicas (none known, or two attempts failed).</exception>
    /// <exception cref="InvalidOperationException">A shard refused the request as invalid (INVALID_ARGUMENT): a bug of the router, not retried.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async ValueTask<Tensor> ForwardAsync(int layer, Tensor hidden, ExpertAssignments assignments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(assignments);
        var width = _options.Config.HiddenSize;
        if (hidden.dim() != 2 || hidden.shape[0] != assignments.TokenCount || hidden.shape[1] != width)
        {
            throw new ArgumentException($"hidden states are [{string.Join(", ", hidden.shape)}] but the assignments are for {assignments.TokenCount} tokens of width {width}", nameof(hidden));
        }

        if (hidden.dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            throw new ArgumentException($"hidden states are {hidden.dtype}; float32 or bfloat16 is expected", nameof(hidden));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var locator = _locator;
        var parts = ShardDispatch.Split(locator, layer, assignments);
        var step = (ulong)Interlocked.Increment(ref _lastStep);
        var revision = locator.Placement.Revision;
        var requests = Requests(step, layer, revision, hidden, parts);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var calls = parts.Select((part, i) => CallShardAsync(revision, layer, part, requests[i], stop)).ToArray();
        try
        {
            await Task.WhenAll(calls).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            var failure = calls.Where(c => c.IsFaulted).Select(c => c.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (failure is not null)
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            throw;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        return Sum(hidden, parts, [.. calls.Select(c => c.Result)]);
    }

    /// <summary>
    /// Follows the resolver (opening and closing channels as replicas come and go), probes replicas not known to
    /// be good with <c>GetInfo</c> every <see cref="RemoteExpertOptions.ProbeInterval"/>, and follows
    /// <paramref name="placements"/>: a new revision is used once every one of its shards has a replica whose
    /// info lists it; until then steps keep the current one. A placement that does not fit the model, or has
    /// another number of shards than the resolver, is logged and ignored. Returns when
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task RunAsync(IAsyncEnumerable<ExpertPlacement> placements, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(placements);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        async Task UntilStopped(Func<CancellationToken, Task> loop)
        {
            try
            {
                await loop(stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        try
        {
            await Task.WhenAll(
                UntilStopped(FollowResolverAsync),
                UntilStopped(token => FollowPlacementsAsync(placements, token)),
                UntilStopped(ProbeLoopAsync)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Cancelled: the normal end.
        }
    }

    /// <summary>Closes every channel.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var replica in _byEndpoint.Values)
            {
                replica.Dispose();
            }

            _byEndpoint.Clear();
            _replicas = [];
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The request of every part, its rows written once from the hidden states' float32 storage into its wire bytes.</summary>
    private ForwardRequest[] Requests(ulong step, int layer, long revision, Tensor hidden, IReadOnlyList<ShardPart> parts)
    {
        using var scope = NewDisposeScope();
        var values = TensorBytes.Storage(TensorBytes.Singles(hidden));
        var requests = new ForwardRequest[parts.Count];
        for (var i = 0; i < parts.Count; i++)
        {
            requests[i] = Request(step, layer, revision, values, parts[i]);
        }

        return requests;
    }

    private ForwardRequest Request(ulong step, int layer, long revision, ReadOnlySpan<float> values, ShardPart part)
    {
        var width = _options.Config.HiddenSize;
        var dtype = _options.WireDtype;
        var rowBytes = width * TensorBytes.ElementSize(dtype);
        var bytes = new byte[(long)part.Rows.Length * rowBytes];
        for (var r = 0; r < part.Rows.Length; r++)
        {
            TensorBytes.FromSingles(values.Slice(part.Rows[r] * width, width), dtype, bytes.AsSpan(r * rowBytes, rowBytes));
        }

        return new ForwardRequest
        {
            StepId = step,
            Layer = (uint)layer,
            PlacementRevision = revision,
            Dtype = dtype,
            HiddenSize = (uint)width,
            NumTokens = (uint)part.Rows.Length,
            Hidden = UnsafeByteOperations.UnsafeWrap(bytes),
            Token = { part.Tokens.Select(t => (uint)t) },
            Expert = { part.Experts.Select(e => (uint)e) },
            Weight = { part.Weights },
        };
    }

    /// <summary>
    /// Sums the shards' partial results, each row added straight from its answer's wire bytes into a float32 CPU
    /// tensor (in shard order, as <c>index_add_</c> would), which then takes the hidden states' type and device.
    /// </summary>
    private Tensor Sum(Tensor hidden, IReadOnlyList<ShardPart> parts, ByteString[] partials)
    {
        using var scope = NewDisposeScope();
        var width = _options.Config.HiddenSize;
        var dtype = _options.WireDtype;
        var rowBytes = width * TensorBytes.ElementSize(dtype);
        var output = zeros([hidden.shape[0], width], ScalarType.Float32, CPU);
        var sums = TensorBytes.Storage(output);
        for (var i = 0; i < parts.Count; i++)
        {
            var partial = partials[i].Span;
            var rows = parts[i].Rows;
            for (var r = 0; r < rows.Length; r++)
            {
                TensorBytes.AddSingles(partial.Slice(r * rowBytes, rowBytes), dtype, sums.Slice(rows[r] * width, width));
            }
        }

        return output.to(hidden.dtype).to(hidden.device).DetachFromDisposeScope();
    }

    /// <summary>Calls one shard; its failure stops the step's other calls.</summary>
    private async Task<ByteString> CallShardAsync(long revision, int layer, ShardPart part, ForwardRequest request, CancellationTokenSource step)
    {
        try
        {
            return await DispatchAsync(revision, layer, part, request, step.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await step.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Calls a replica of the shard, and once more another replica when that fails.</summary>
    private async Task<ByteString> DispatchAsync(long revision, int layer, ShardPart part, ForwardRequest request, CancellationToken cancellationToken)
    {
        var shard = part.Shard;
        var label = shard.ToString(CultureInfo.InvariantCulture);
        var started = _time.GetTimestamp();
        var tried = new List<ShardReplica>();
        var failures = new List<string>();
        Exception? last = null;
        try
        {
            for (var attempt = 0; attempt < 2; attempt++)
            {
                var replica = Choose(shard, tried);
                if (replica is null)
                {
                    break;
                }

                tried.Add(replica);
                try
                {
                    return await AttemptAsync(replica, layer, part, request, cancellationToken).ConfigureAwait(false);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument)
                {
                    // The replica answered; the request was wrong, and would be on any replica.
                    replica.Succeeded();
                    _metrics.DispatchFailures.WithLabels(label).Inc();
                    throw new InvalidOperationException($"expert shard {shard} replica {replica.Endpoint} refused the request as invalid: {e.Status.Detail}", e);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    var reason = Describe(e);
                    failures.Add($"{replica.Endpoint} ({reason})");
                    last = e;
                    _metrics.DispatchFailures.WithLabels(label).Inc();
                    replica.Failed(_time.GetUtcNow() + _options.ReplicaCooldown);
                    RemoteExpertLog.CallFailed(_logger, shard, replica.Endpoint, layer, revision, reason);
                    Wake();
                }
            }
        }
        finally
        {
            _metrics.Dispatch.WithLabels(label).Observe(_time.GetElapsedTime(started).TotalSeconds);
        }

        var tries = failures.Count == 0 ? "the resolver finds none" : $"tried {string.Join(", ", failures)}";
        throw new ShardUnavailableException(shard, $"expert shard {shard} (placement revision {revision}) has no reachable replica: {tries}", last);
    }

    private async Task<ByteString> AttemptAsync(ShardReplica replica, int layer, ShardPart part, ForwardRequest request, CancellationToken cancellationToken)
    {
        using var activity = ServingTelemetry.Source.StartActivity(CallName, ActivityKind.Client);
        activity?.SetTag("shard", replica.Shard);
        activity?.SetTag("layer", layer);
        activity?.SetTag("tokens", part.Rows.Length);
        activity?.SetTag("replica", replica.Endpoint.ToString());
        var headers = new Metadata();
        if (activity is not null)
        {
            // The shard's span descends from this call's: directly, or through the gRPC client's and HttpClient's spans
            // where a tracer provider instruments HttpClient (its traceparent then replaces this one).
            DistributedContextPropagator.Current.Inject(activity, headers, static (carrier, key, value) => ((Metadata)carrier!).Add(key, value));
        }

        using var timeout = new CancellationTokenSource(_options.StepDeadline, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var response = await replica.Client.ForwardAsync(request, headers, cancellationToken: linked.Token).ConfigureAwait(false);
            var expected = request.NumTokens * request.HiddenSize * (long)TensorBytes.ElementSize(request.Dtype);
            if (response.Output.Length != expected)
            {
                throw new InvalidDataException($"the answer has {response.Output.Length} bytes of output, {expected} were expected");
            }

            replica.Succeeded();
            return response.Output;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "deadline exceeded");
            throw new TimeoutException($"DeadlineExceeded: no answer within {_options.StepDeadline.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    private static string Describe(Exception e) => e switch
    {
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => e.Message,
    };

    /// <summary>The next replica of the shard in round-robin order that is not cooling down and not yet tried; one cooling down when no other is left.</summary>
    private ShardReplica? Choose(int shard, List<ShardReplica> tried)
    {
        var all = _replicas;
        if (shard >= all.Length || all[shard].Length == 0)
        {
            return null;
        }

        var replicas = all[shard];
        var start = (int)((uint)Interlocked.Increment(ref _nextReplica[shard]) % (uint)replicas.Length);
        var now = _time.GetUtcNow();
        ShardReplica? cooling = null;
        for (var k = 0; k < replicas.Length; k++)
        {
            var replica = replicas[(start + k) % replicas.Length];
            if (tried.Contains(replica))
            {
                continue;
            }

            if (!replica.CoolingDown(now))
            {
                return replica;
            }

            cooling ??= replica;
        }

        return cooling;
    }

    private async Task FollowResolverAsync(CancellationToken cancellationToken)
    {
        await foreach (var endpoints in _resolver.WatchAsync(cancellationToken).ConfigureAwait(false))
        {
            UseReplicas(endpoints);
            Wake();
        }
    }

    /// <summary>Makes <paramref name="endpoints"/> the replicas: keeps the channels of those that stay, opens new ones, closes those that left.</summary>
    private void UseReplicas(ShardEndpoints endpoints)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var seen = new HashSet<(int, ShardEndpoint)>();
            var replicas = new ShardReplica[endpoints.Shards][];
            for (var shard = 0; shard < endpoints.Shards; shard++)
            {
                replicas[shard] = [.. endpoints[shard].Select(endpoint =>
                {
                    var key = (shard, endpoint);
                    seen.Add(key);
                    if (!_byEndpoint.TryGetValue(key, out var replica))
                    {
                        replica = new ShardReplica(shard, endpoint, _options.ProbeInterval);
                        _byEndpoint[key] = replica;
                        RemoteExpertLog.ReplicaAdded(_logger, shard, endpoint);
                    }

                    return replica;
                })];
            }

            foreach (var (key, replica) in _byEndpoint.Where(r => !seen.Contains(r.Key)).ToList())
            {
                _byEndpoint.Remove(key);
                replica.Dispose();
                RemoteExpertLog.ReplicaRemoved(_logger, key.Shard, key.Endpoint);
            }

            _replicas = replicas;
        }
    }

    private async Task FollowPlacementsAsync(IAsyncEnumerable<ExpertPlacement> placements, CancellationToken cancellationToken)
    {
        await foreach (var placement in placements.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            Offer(placement);
        }
    }

    private void Offer(ExpertPlacement placement)
    {
        var current = _locator.Placement.Revision;
        if (placement.Revision == current)
        {
            lock (_gate)
            {
                // The current revision again (a pending one was withdrawn): nothing to switch to.
                _pending = null;
            }

            return;
        }

        if (placement.Shards != _resolver.Shards)
        {
            RemoteExpertLog.PlacementIgnored(_logger, placement.Revision, $"it has {placement.Shards} shards but the resolver finds replicas for {_resolver.Shards}");
            return;
        }

        ExpertLocator locator;
        try
        {
            locator = new ExpertLocator(placement, _options.Config);
        }
        catch (PlacementException e)
        {
            RemoteExpertLog.PlacementIgnored(_logger, placement.Revision, e.Message);
            return;
        }

        lock (_gate)
        {
            _pending = locator;
        }

        RemoteExpertLog.PlacementPending(_logger, placement.Revision, current);
        Wake();
        TrySwitch();
    }

    /// <summary>Switches to the pending placement when every one of its shards has a replica serving it.</summary>
    private void TrySwitch()
    {
        long previous, revision;
        lock (_gate)
        {
            if (_pending is not { } pending)
            {
                return;
            }

            revision = pending.Placement.Revision;
            var replicas = _replicas;
            for (var shard = 0; shard < pending.Placement.Shards; shard++)
            {
                if (shard >= replicas.Length || !replicas[shard].Any(r => r.Serves(revision)))
                {
                    return;
                }
            }

            previous = _locator.Placement.Revision;
            _locator = pending;
            _pending = null;
        }

        _metrics.PlacementRevision.Set(revision);
        RemoteExpertLog.PlacementSwitched(_logger, previous, revision);
    }

    private void Wake()
    {
        lock (_gate)
        {
            _wake.TrySetResult();
        }
    }

    /// <summary>
    /// Every <see cref="RemoteExpertOptions.ProbeInterval"/>, or at once when replicas or placements change, asks
    /// replicas not known to be good, and those not yet listing a pending revision, for their info.
    /// </summary>
    private async Task ProbeLoopAsync(CancellationToken cancellationToken)
    {
        var probes = new List<Task>();
        var lastCheck = _time.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Every interval, replicas known to be good are asked too: one that went away while no call was made
                // to it is otherwise taken for reachable (and the router for ready) until a request fails on it.
                var checkAll = _time.GetElapsedTime(lastCheck) >= _options.ProbeInterval;
                if (checkAll)
                {
                    lastCheck = _time.GetTimestamp();
                }

                Task wake;
                long? awaited;
                lock (_gate)
                {
                    if (_wake.Task.IsCompleted)
                    {
                        _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }

                    wake = _wake.Task;
                    awaited = _pending?.Placement.Revision;
                }

                probes.RemoveAll(p => p.IsCompleted);
                foreach (var replica in _replicas.SelectMany(r => r))
                {
                    if ((checkAll || replica.NeedsProbe(awaited)) && replica.TryStartProbe())
                    {
                        probes.Add(ProbeAsync(replica, cancellationToken));
                    }
                }

                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(Task.Delay(_options.ProbeInterval, _time, wait.Token), wake).ConfigureAwait(false);
                await wait.CancelAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            await Task.WhenAll(probes).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task ProbeAsync(ShardReplica replica, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StepDeadline, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var info = await replica.Client.GetInfoAsync(new GetInfoRequest(), cancellationToken: linked.Token).ConfigureAwait(false);
            if (info.ShardIndex != replica.Shard)
            {
                throw new InvalidDataException($"it serves shard {info.ShardIndex}, not shard {replica.Shard}");
            }

            if (replica.Probed(info) is { } served)
            {
                RemoteExpertLog.ReplicaServes(_logger, replica.Shard, replica.Endpoint, served);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            replica.Failed(_time.GetUtcNow() + _options.ReplicaCooldown);
            RemoteExpertLog.ProbeFailed(_logger, replica.Shard, replica.Endpoint, e);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: the probe's outcome no longer matters.
        }
        finally
        {
            replica.EndProbe();
        }

        TrySwitch();
    }
}
