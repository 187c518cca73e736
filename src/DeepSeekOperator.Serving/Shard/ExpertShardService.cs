using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Shard.Internal;
using DeepSeekOperator.Serving.Tensors;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Shard;

/// <summary>
/// The <c>ExpertShard</c> gRPC service (DESIGN.md §6): runs the routed experts this shard holds for the tokens
/// routers send it, and refuses requests that do not fit the shard or its placement revision.
/// </summary>
/// <remarks>
/// Calls from any number of routers, and the steps of one stream, run concurrently and reach the executor at
/// the same time: it must be safe to call concurrently. <see cref="LocalExpertExecutor"/> is (its weights are
/// only read; its CPU workers take one forward at a time and other calls wait for them).
/// </remarks>
public sealed class ExpertShardService : ExpertShard.ExpertShardBase
{
    private readonly ExpertShardOptions _options;
    private readonly IExpertExecutor _executor;
    private readonly ILogger<ExpertShardService> _logger;
    private readonly ForwardRequestCheck _check;
    private readonly ShardInfo _info;

    /// <summary>Serves the experts of <paramref name="options"/>' shard through <paramref name="executor"/>.</summary>
    /// <param name="options">The shard's index, placement and model.</param>
    /// <param name="executor">Runs the shard's experts; safe to call concurrently (see the remarks).</param>
    /// <param name="logger">Where refused calls are logged.</param>
    /// <exception cref="ArgumentException">The shard index is not a shard of the placement, or the dtype is not supported.</exception>
    public ExpertShardService(ExpertShardOptions options, IExpertExecutor executor, ILogger<ExpertShardService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(logger);
        var placement = options.Locator.Placement;
        if ((uint)options.ShardIndex >= (uint)placement.Shards)
        {
            throw new ArgumentException($"ShardIndex {options.ShardIndex} is not a shard of placement revision {placement.Revision}, which has {placement.Shards}", nameof(options));
        }

        if (!TensorBytes.IsSupported(options.Dtype))
        {
            throw new ArgumentException($"Dtype {(int)options.Dtype} is not one of TENSOR_DTYPE_FLOAT32, TENSOR_DTYPE_BFLOAT16", nameof(options));
        }

        _options = options;
        _executor = executor;
        _logger = logger;
        var held = options.Config.MoeLayers.ToDictionary(layer => layer, layer => options.Locator.ExpertsOn(options.ShardIndex, layer));
        _check = new ForwardRequestCheck(options.ShardIndex, placement.Revision, options.Config.HiddenSize, held);
        _info = new ShardInfo
        {
            ModelId = placement.ModelId,
            PlacementRevision = placement.Revision,
            ShardIndex = (uint)options.ShardIndex,
            Dtype = options.Dtype,
            SupportedDtypes = { TensorDtype.Float32, TensorDtype.Bfloat16 },
            HiddenSize = (uint)options.Config.HiddenSize,
            ExpertsPerLayer = { held.Select(l => new LayerExperts { Layer = (uint)l.Key, Expert = { l.Value.Select(e => (uint)e) } }) },
        };
        ShardLog.Serving(logger, options.ShardIndex, placement.Revision, placement.ModelId, placement.SlotsPerShard, held.Count);
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
    public override Task<ShardInfo> GetInfo(GetInfoRequest request, ServerCallContext context) => Task.FromResult(_info.Clone());

    private async Task<ForwardResponse> RunAsync(ForwardRequest request, CancellationToken cancellationToken)
    {
        ExpertAssignments assignments;
        try
        {
            assignments = _check.Check(request);
        }
        catch (RpcException e)
        {
            ShardLog.Refused(_logger, e.StatusCode, e.Status.Detail);
            throw;
        }

        var values = TensorBytes.ToSingles(request.Hidden.Span, request.Dtype);
        using var hidden = tensor(values, [request.NumTokens, request.HiddenSize], ScalarType.Float32, _options.Device);
        using var output = await _executor.ForwardAsync((int)request.Layer, hidden, assignments, cancellationToken).ConfigureAwait(false);
        using var onCpu = output.cpu();
        var bytes = TensorBytes.FromSingles(onCpu.data<float>().ToArray(), request.Dtype);
        return new ForwardResponse { StepId = request.StepId, Output = UnsafeByteOperations.UnsafeWrap(bytes) };
    }
}
