using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>
/// One submitted generation, read as text: its tokens are decoded as they come, cut at the first stop string (which
/// cancels the generation), and timed for the latency metrics. Disposing it cancels a generation still running.
/// </summary>
internal sealed class TextGeneration : IDisposable
{
    private readonly OpenAiApiOptions _options;
    private readonly GenerationHandle _handle;
    private readonly CancellationTokenSource _cancellation;
    private readonly StopMatcher _stops;
    private readonly long _arrival;

    private TextGeneration(OpenAiApiOptions options, GenerationHandle handle, CancellationTokenSource cancellation, IReadOnlyList<string> stops, long arrival)
    {
        _options = options;
        _handle = handle;
        _cancellation = cancellation;
        _stops = new StopMatcher(stops);
        _arrival = arrival;
    }

    /// <summary>How many tokens have been generated so far.</summary>
    public int CompletionTokens { get; private set; }

    /// <summary>OpenAI's <c>finish_reason</c> (<c>stop</c> or <c>length</c>), once <see cref="TextAsync"/> has ended.</summary>
    public string? FinishReason { get; private set; }

    /// <summary>
    /// Submits the generation. <paramref name="requestAborted"/> (the client went away) cancels it, and so does a stop string.
    /// </summary>
    /// <param name="options">The API's options.</param>
    /// <param name="request">The prompt and how to sample.</param>
    /// <param name="stops">The stop strings.</param>
    /// <param name="arrival">When the request arrived (<see cref="TimeProvider.GetTimestamp"/> of the options' time).</param>
    /// <param name="requestAborted">The request's abort token.</param>
    /// <exception cref="QueueFullException">The scheduler's queue is full.</exception>
    /// <exception cref="OpenAiErrorException">The scheduler refused the request's prompt or options (400).</exception>
    public static TextGeneration Start(OpenAiApiOptions options, GenerationRequest request, IReadOnlyList<string> stops, long arrival, CancellationToken requestAborted)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        try
        {
            return new TextGeneration(options, options.Generator.Submit(request, cancellation.Token), cancellation, stops, arrival);
        }
        catch (ArgumentException e)
        {
            cancellation.Dispose();
            throw OpenAiErrorException.Invalid(e.ParamName, e.Message);
        }
        catch
        {
            cancellation.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The generated text in pieces, as the tokens come: the stream's content deltas. Ends when the generation does or at
    /// a stop string; throws what the generation failed with (<see cref="ShardUnavailableException"/>), or
    /// <see cref="OperationCanceledException"/> when the client went away.
    /// </summary>
    public async IAsyncEnumerable<string> TextAsync()
    {
        var tokens = new List<int>();
        var decodedLength = 0;
        var last = _arrival;
        await foreach (var token in _handle.Tokens.ReadAllAsync(_cancellation.Token).ConfigureAwait(false))
        {
            var now = _options.Time.GetTimestamp();
            (tokens.Count == 0 ? _options.Metrics.TimeToFirstToken : _options.Metrics.InterTokenLatency).Observe(_options.Time.GetElapsedTime(last, now).TotalSeconds);
            last = now;
            var piece = _options.Tokenizer.DecodeIncrement(tokens, token);
            tokens.Add(token);
            CompletionTokens = tokens.Count;
            decodedLength += piece.Length;
            var send = _stops.Append(piece);
            if (send.Length > 0)
            {
                yield return send;
            }

            if (_stops.Stopped)
            {
                FinishReason = "stop";
                await _cancellation.CancelAsync().ConfigureAwait(false);
                yield break;
            }
        }

        var result = await _handle.Completion.WaitAsync(_cancellation.Token).ConfigureAwait(false);

        // A character whose bytes were never completed: the whole decode spells it U+FFFD, as a non-streamed answer has it.
        var full = _options.Tokenizer.Decode(tokens);
        var tail = _stops.Append(full.Length > decodedLength ? full[decodedLength..] : string.Empty);
        if (!_stops.Stopped)
        {
            tail += _stops.Flush();
        }

        FinishReason = _stops.Stopped || result.Reason == Moe.FinishReason.Stop ? "stop" : "length";
        if (tail.Length > 0)
        {
            yield return tail;
        }
    }

    /// <summary>Cancels the generation if it is still running; the cancellation source is released when it has ended.</summary>
    public void Dispose()
    {
        if (!_handle.Completion.IsCompleted)
        {
            _cancellation.Cancel();
        }

        var cancellation = _cancellation;
        _handle.Completion.ContinueWith(
            completion =>
            {
                _ = completion.Exception;
                cancellation.Dispose();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
