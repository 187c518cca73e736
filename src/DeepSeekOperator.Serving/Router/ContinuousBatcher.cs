using System.Diagnostics;
using System.Threading.Channels;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.Router.Internal;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Router;

/// <summary>
/// The router's continuous-batching scheduler. Requests wait in a bounded FIFO queue and join the running batch at
/// step boundaries, while the batch has fewer than <see cref="SchedulerOptions.MaxConcurrentRequests"/> sequences
/// and the step's tokens (one per decoding sequence, every prompt being prefilled) stay within
/// <see cref="SchedulerOptions.MaxBatchTokens"/>. Each step is one forward pass over prefills and decodes together;
/// every sequence samples with its own sampler, streams its token at once, and ends by the rules of
/// <see cref="SequenceGeneration"/>, as <see cref="BatchGenerator"/> does.
/// </summary>
public sealed class ContinuousBatcher : ITokenGenerator
{
    private readonly MoeModel _model;
    private readonly IReadOnlyCollection<int> _stopTokens;
    private readonly SchedulerOptions _options;
    private readonly RouterMetrics _metrics;
    private readonly ILogger<ContinuousBatcher> _logger;
    private readonly Lock _gate = new();
    private readonly LinkedList<ScheduledRequest> _queue = new();
    private readonly List<ScheduledRequest> _running = [];
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private long _submitted;
    private int _started;
    private bool _stopped;

    /// <summary>Creates the scheduler; nothing runs until <see cref="RunAsync"/>.</summary>
    /// <param name="model">The model (on the router, its routed experts run on the shards).</param>
    /// <param name="stopTokens">End-of-sequence ids (the tokenizer's).</param>
    /// <param name="options">The limits (validated).</param>
    /// <param name="metrics">Where queue depth, running sequences and token counts are reported.</param>
    /// <param name="logger">Admissions and ends at Debug, failed steps at Warning.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public ContinuousBatcher(MoeModel model, IReadOnlyCollection<int> stopTokens, SchedulerOptions options, RouterMetrics metrics, ILogger<ContinuousBatcher> logger)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stopTokens);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _model = model;
        _stopTokens = stopTokens;
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The trace context current now becomes the parent of the steps this request is the oldest of. After
    /// <see cref="RunAsync"/> has stopped, the handle ends cancelled at once.
    /// </remarks>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> is already cancelled.</exception>
    public GenerationHandle Submit(GenerationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Prompt);
        ArgumentNullException.ThrowIfNull(request.Options);
        cancellationToken.ThrowIfCancellationRequested();
        CheckPrompt(request.Prompt);
        var generation = new SequenceGeneration(request.Options, _stopTokens, _model.Config.MaxPositionEmbeddings);
        var scheduled = new ScheduledRequest(Interlocked.Increment(ref _submitted), request.Prompt, generation, Activity.Current?.Context ?? default, cancellationToken)
        {
            Registration = cancellationToken.Register(Wake),
        };
        bool stopped;
        lock (_gate)
        {
            stopped = _stopped;
            if (!stopped)
            {
                if (_queue.Count >= _options.MaxQueuedRequests)
                {
                    scheduled.Registration.Dispose();
                    throw new QueueFullException(_options.MaxQueuedRequests);
                }

                _queue.AddLast(scheduled);
                _metrics.QueueDepth.Set(_queue.Count);
            }
        }

        if (stopped)
        {
            scheduled.Cancel(CancellationToken.None);
        }
        else
        {
            Wake();
        }

        return scheduled.Handle;
    }

    /// <summary>
    /// Runs steps until <paramref name="cancellationToken"/> is cancelled, waiting (without polling) while nothing is
    /// queued or running. A step that throws fails exactly the requests in it, and the loop goes on. When cancelled,
    /// every queued and running request ends cancelled and the method returns.
    /// </summary>
    /// <exception cref="InvalidOperationException">The loop has already been started.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("the scheduler's loop has already been started");
        }

        // Steps are parented to their requests' traces, never to whatever started the loop.
        Activity.Current = null;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Boundary();
                if (_running.Count == 0)
                {
                    await _wake.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                await StepAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            Stop(cancellationToken);
        }
    }

    private void CheckPrompt(IReadOnlyList<int> prompt)
    {
        var config = _model.Config;
        if (prompt.Count == 0)
        {
            throw new ArgumentException("prompt must hold at least one token");
        }

        if (prompt.Count >= config.MaxPositionEmbeddings)
        {
            throw new ArgumentException($"prompt has {prompt.Count} tokens, which leaves no room to generate in the model's context of {config.MaxPositionEmbeddings} (max_position_embeddings)");
        }

        if (prompt.Count > _options.MaxBatchTokens)
        {
            throw new ArgumentException($"prompt has {prompt.Count} tokens, more than one step may hold (maxBatchTokens {_options.MaxBatchTokens})");
        }

        for (var i = 0; i < prompt.Count; i++)
        {
            if ((uint)prompt[i] >= (uint)config.VocabSize)
            {
                throw new ArgumentException($"prompt token {i} is id {prompt[i]}, outside the vocabulary of {config.VocabSize}");
            }
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>Between steps: drops cancelled requests, then admits queued ones in order while they fit.</summary>
    private void Boundary()
    {
        for (var i = _running.Count - 1; i >= 0; i--)
        {
            if (_running[i].CancellationToken.IsCancellationRequested)
            {
                EndCancelled(_running[i], _running[i].CancellationToken);
                _running.RemoveAt(i);
            }
        }

        var cancelled = new List<ScheduledRequest>();
        var admitted = new List<ScheduledRequest>();
        lock (_gate)
        {
            for (var node = _queue.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.CancellationToken.IsCancellationRequested)
                {
                    cancelled.Add(node.Value);
                    _queue.Remove(node);
                }

                node = next;
            }

            var tokens = _running.Count;
            while (_queue.First is { Value: var head } && _running.Count + admitted.Count < _options.MaxConcurrentRequests && tokens + head.Prompt.Count <= _options.MaxBatchTokens)
            {
                _queue.RemoveFirst();
                admitted.Add(head);
                tokens += head.Prompt.Count;
            }

            _metrics.QueueDepth.Set(_queue.Count);
        }

        foreach (var request in cancelled)
        {
            EndCancelled(request, request.CancellationToken);
        }

        foreach (var request in admitted)
        {
            request.Cache = _model.CreateCache(request.Prompt.Count + Math.Min(request.Generation.MaxTokens, 1024));
            _running.Add(request);
            SchedulerLog.Admitted(_logger, request.Id, request.Prompt.Count, _running.Count);
        }

        _metrics.InflightRequests.Set(_running.Count);
    }

    /// <summary>One forward pass over every running sequence, then one token for each.</summary>
    private async Task StepAsync(CancellationToken cancellationToken)
    {
        ScheduledRequest[] batch = [.. _running];
        var tokens = batch.Sum(r => r.Input.Count);
        var prefillTokens = batch.Where(r => r.Prefilling).Sum(r => r.Input.Count);
        using var activity = StartStep(batch, tokens, prefillTokens);
        float[] rows;
        try
        {
            using var logits = await _model.ForwardAsync([.. batch.Select(r => new SequenceInput(r.Cache!, r.Input))], LogitsFor.LastToken, cancellationToken).ConfigureAwait(false);
            using var cpu = logits.cpu();
            rows = cpu.data<float>().ToArray();
        }
        catch (Exception error) when (!(error is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            SchedulerLog.StepFailed(_logger, batch.Length, tokens, error);
            foreach (var request in batch)
            {
                _running.Remove(request);
                request.Fail(error);
            }

            _metrics.InflightRequests.Set(_running.Count);
            return;
        }

        _metrics.StepTokens.Observe(tokens);
        _metrics.Tokens.WithLabels("prompt").Inc(prefillTokens);
        var vocab = _model.Config.VocabSize;
        var generated = 0;
        for (var row = 0; row < batch.Length; row++)
        {
            var request = batch[row];
            var token = request.Generation.Next(rows.AsSpan(row * vocab, vocab), request.Cache!.Length);
            if (token is { } next)
            {
                request.Emit(next);
                request.Input = [next];
                generated++;
            }

            if (request.Generation.Finished is { } reason)
            {
                _running.Remove(request);
                SchedulerLog.Finished(_logger, request.Id, reason, request.Generation.Tokens.Count);
                request.Finish();
            }
        }

        _metrics.Tokens.WithLabels("generated").Inc(generated);
        _metrics.InflightRequests.Set(_running.Count);
    }

    /// <summary>
    /// The step's span: a child of the oldest request's trace that has one, linked to the other requests' traces,
    /// and current while the forward pass runs, so that the calls to the shards become its children.
    /// </summary>
    private static Activity? StartStep(ScheduledRequest[] batch, int tokens, int prefillTokens)
    {
        var traced = batch.Where(r => r.TraceContext != default).ToList();
        var parent = traced.Count > 0 ? traced[0].TraceContext : default;
        var activity = ServingTelemetry.Source.StartActivity("scheduler.step", ActivityKind.Internal, parent, links: traced.Skip(1).Select(r => new ActivityLink(r.TraceContext)));
        activity?.SetTag("scheduler.sequences", batch.Length);
        activity?.SetTag("scheduler.tokens", tokens);
        activity?.SetTag("scheduler.prefill_tokens", prefillTokens);
        return activity;
    }

    private void EndCancelled(ScheduledRequest request, CancellationToken token)
    {
        SchedulerLog.Cancelled(_logger, request.Id, request.Generation.Tokens.Count);
        request.Cancel(token);
    }

    /// <summary>Ends every queued and running request cancelled; later submissions end cancelled at once.</summary>
    private void Stop(CancellationToken cancellationToken)
    {
        List<ScheduledRequest> queued;
        lock (_gate)
        {
            _stopped = true;
            queued = [.. _queue];
            _queue.Clear();
            _metrics.QueueDepth.Set(0);
        }

        foreach (var request in _running.Concat(queued))
        {
            EndCancelled(request, cancellationToken);
        }

        _running.Clear();
        _metrics.InflightRequests.Set(0);
    }
}
