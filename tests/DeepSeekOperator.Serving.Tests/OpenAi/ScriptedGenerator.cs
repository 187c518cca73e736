using System.Threading.Channels;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

/// <summary>
/// A generator that plays a script: it refuses the request with <see cref="Refusal"/>, or sends <see cref="Tokens"/> and then
/// finishes with <see cref="Reason"/>, fails with <see cref="Failure"/>, or (with <see cref="HoldOpen"/>) waits for its
/// cancellation. It records the requests and whether their tokens were cancelled.
/// </summary>
internal sealed class ScriptedGenerator : ITokenGenerator
{
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Exception? Refusal { get; init; }

    public IReadOnlyList<int> Tokens { get; init; } = [];

    public FinishReason Reason { get; init; } = FinishReason.Stop;

    public Exception? Failure { get; init; }

    public bool HoldOpen { get; init; }

    public List<GenerationRequest> Requests { get; } = [];

    /// <summary>Completes when the token of a submitted request is cancelled.</summary>
    public Task Cancelled => _cancelled.Task;

    /// <summary>The text of <paramref name="text"/>'s bytes as the byte tokenizer's tokens.</summary>
    public static IReadOnlyList<int> TokensOf(string text) => OpenAiServer.Tokenizer.Encode(text, addBos: false);

    public GenerationHandle Submit(GenerationRequest request, CancellationToken cancellationToken)
    {
        lock (Requests)
        {
            Requests.Add(request);
        }

        if (Refusal is not null)
        {
            throw Refusal;
        }

        cancellationToken.Register(() => _cancelled.TrySetResult());
        var channel = Channel.CreateUnbounded<int>();
        foreach (var token in Tokens)
        {
            channel.Writer.TryWrite(token);
        }

        return new GenerationHandle(channel.Reader, FinishAsync(channel.Writer, cancellationToken));
    }

    private async Task<GenerationResult> FinishAsync(ChannelWriter<int> tokens, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            if (HoldOpen)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            if (Failure is not null)
            {
                throw Failure;
            }

            tokens.Complete();
            return new GenerationResult(Tokens, Reason);
        }
        catch (Exception e)
        {
            tokens.Complete(e);
            throw;
        }
    }
}
