using System.Diagnostics;
using System.Threading.Channels;
using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Serving.Router.Internal;

/// <summary>
/// A request inside the scheduler, from its submission to its end: its generation state, its cache while it runs,
/// and the channel and completion its caller reads. Only the scheduler's loop touches it after submission.
/// </summary>
internal sealed class ScheduledRequest
{
    private readonly Channel<int> _tokens = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<GenerationResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ScheduledRequest(long id, IReadOnlyList<int> prompt, SequenceGeneration generation, ActivityContext traceContext, CancellationToken cancellationToken)
    {
        Id = id;
        Prompt = prompt;
        Input = prompt;
        Generation = generation;
        TraceContext = traceContext;
        CancellationToken = cancellationToken;
        Handle = new GenerationHandle(_tokens.Reader, _completion.Task);
    }

    /// <summary>The request's number, in submission order.</summary>
    public long Id { get; }

    /// <summary>The prompt's token ids.</summary>
    public IReadOnlyList<int> Prompt { get; }

    /// <summary>The sampler and the stop and length rules.</summary>
    public SequenceGeneration Generation { get; }

    /// <summary>The trace context current when the request was submitted; default when there was none.</summary>
    public ActivityContext TraceContext { get; }

    /// <summary>The caller's token: cancelled when the client went away.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>What the caller reads.</summary>
    public GenerationHandle Handle { get; }

    /// <summary>Wakes the scheduler when <see cref="CancellationToken"/> is cancelled.</summary>
    public CancellationTokenRegistration Registration { get; init; }

    /// <summary>The sequence's cache, from admission to the end.</summary>
    public KvCache? Cache { get; set; }

    /// <summary>What the next step feeds the model: the whole prompt, then the last token generated.</summary>
    public IReadOnlyList<int> Input { get; set; }

    /// <summary>Whether the next step prefills the prompt.</summary>
    public bool Prefilling => ReferenceEquals(Input, Prompt);

    /// <summary>Streams a generated token.</summary>
    public void Emit(int token) => _tokens.Writer.TryWrite(token);

    /// <summary>Ends the request with its result.</summary>
    public void Finish()
    {
        Release();
        _tokens.Writer.TryComplete();
        _completion.TrySetResult(Generation.Result());
    }

    /// <summary>Ends the request with the failure of the step it was in.</summary>
    public void Fail(Exception error)
    {
        Release();
        _tokens.Writer.TryComplete(error);
        _completion.TrySetException(error);
    }

    /// <summary>Ends the request cancelled by <paramref name="token"/> (the caller's, or the scheduler's when it stops).</summary>
    public void Cancel(CancellationToken token)
    {
        Release();
        _tokens.Writer.TryComplete(new OperationCanceledException(token));
        _completion.TrySetCanceled(token);
    }

    private void Release()
    {
        Registration.Dispose();
        Cache?.Dispose();
        Cache = null;
    }
}
