using System.Diagnostics;
using System.Globalization;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Shard.Internal;
using DeepSeekOperator.Serving.Tensors;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Serving.Shard;

/// <summary>
/// The <c>ExpertShard</c> gRPC service (DESIGN.md §6): runs the routed experts this shard holds for the tokens
/// routers send it, and refuses requests that do not fit the shard or a placement revision it serves. Calls are
/// counted in <see cref="ShardMetrics"/> and traced as <c>expert_shard.forward</c> spans of <see cref="ServingTelemetry.Source"/>.
/// </summary>
/// <remarks>
/// Calls from any number of routers, and the steps of one stream, run concurrently and reach the executor at
/// the same time: it must be safe to call concurrently. <see cref="LocalExpertExecutor"/> is (its weights are
/// only read; its CPU workers take one forward at a time and other calls wait for them).
/// </remarks>
public sealed class ExpertShardService : ExpertShard.ExpertShardBase
{
    private readonly ShardRevisions _revisions;
    private readonly ShardMetrics _metrics;
    private readonly ILogger<ExpertShardService> _logger;

    /// <summary>Serves the placement revisions of <paramref name="revisions"/>, each through its own executor.</summary>
    /// <param name="revisions">The revisions served and their executors, which must be safe to call concurrently (see the remarks).</param>
    /// <param name="metrics">Where calls are counted and timed.</param>
    /// <param name="logger">Where refused calls are logged.</param>
    public ExpertShardService(ShardRevisions revisions, ShardMetrics metrics, ILogger<ExpertShardService> logger)
    {
        ArgumentNullException.ThrowIfNull(revisions);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        _revisions = revisions;
        _metrics = metrics;
        _logger = logger;
    }

    /// <inheritdoc />
    public override Task<ForwardResponse> Forward(ForwardRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return RunAsync(request, context.CancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Steps run concurrently as they arrive and are answered as they finish, each response carrying its
    /// request's step_id. The first step refused or failed ends the stream with its status (whose message names the step).
    /// </remarks>
    public override async Task ForwardStream(IAsyncStreamReader<ForwardRequest> requestStream, IServerStreamWriter<ForwardResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        using var writing = new SemaphoreSlim(1, 1);
        var pending = new List<Task>();
        Exception? firstError = null;

        async Task AnswerAsync(ForwardRequest request)
        {
            try
            {
                var response = await RunAsync(request, stop.Token).ConfigureAwait(false);
                await writing.WaitAsync(stop.Token).ConfigureAwait(false);
                try
                {
                    await responseStream.WriteAsync(response, stop.Token).ConfigureAwait(false);
                }
                finally
                {
                    writing.Release();
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref firstError, e, null);
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        try
        {
            await foreach (var request in requestStream.ReadAllAsync(stop.Token).ConfigureAwait(false))
            {
                pending.RemoveAll(task => task.IsCompletedSuccessfully);
                pending.Add(Task.Run(() => AnswerAsync(request), CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (firstError is not null)
        {
            // A step failed and cancelled the read in progress; its error is the stream's status, thrown below.
        }

        try
        {
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
        catch (Exception) when (firstError is not null)
        {
            // Steps cancelled because another failed; the first failure is the one to report.
        }

        if (firstError is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(firstError);
        }
    }

    /// <inheritdoc />
    /// <remarks>Before the first revision is served (its experts are loading) the call fails with UNAVAILABLE.</remarks>
    public override Task<ShardInfo> GetInfo(GetInfoRequest request, ServerCallContext context) => Task.FromResult(_revisions.Info());

    private async Task<ForwardResponse> RunAsync(ForwardRequest request, CancellationToken cancellationToken)
    {
        // A child of ASP.NET Core's request activity, which continues the router's traceparent.
        using var activity = ServingTelemetry.Source.StartActivity("expert_shard.forward", ActivityKind.Internal);
        activity?.SetTag("layer", request.Layer);
        activity?.SetTag("tokens", request.NumTokens);
        activity?.SetTag("revision", request.PlacementRevision);
        ShardRevisions.Lease? lease = null;
        ExpertAssignments assignments;
        try
        {
            lease = _revisions.Acquire(request.StepId, request.PlacementRevision);
            assignments = lease.Check.Check(request);
        }
        catch (RpcException e)
        {
            lease?.Dispose();
            _metrics.Refused.WithLabels(e.StatusCode.ToString()).Inc();
            activity?.SetStatus(ActivityStatusCode.Error, e.Status.Detail);
            ShardLog.Refused(_logger, e.StatusCode, e.Status.Detail);
            throw;
        }

        using (lease)
        using (_metrics.Forward.NewTimer())
        {
            using var hidden = TensorBytes.ToTensor(request.Hidden.Span, request.Dtype, request.NumTokens, request.HiddenSize, _revisions.Options.Device);
            using var output = await lease.Executor.ForwardAsync((int)request.Layer, hidden, assignments, cancellationToken).ConfigureAwait(false);
            var bytes = TensorBytes.FromTensor(output, request.Dtype);
            Count(request);
            return new ForwardResponse { StepId = request.StepId, Output = UnsafeByteOperations.UnsafeWrap(bytes) };
        }
    }

    private void Count(ForwardRequest request)
    {
        _metrics.Tokens.Inc(request.NumTokens);
        foreach (var (expert, tokens) in request.Expert.CountBy(e => e))
        {
            _metrics.ExpertTokens.WithLabels(expert.ToString(CultureInfo.InvariantCulture)).Inc(tokens);
        }
    }
}
