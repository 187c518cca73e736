using System.Threading.Channels;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

/// <summary>
/// Runs each request through <see cref="BatchGenerator"/> of a real model, one request after another, writing its tokens
/// to the handle's channel as they are sampled: a stand-in for the continuous-batching scheduler.
/// </summary>
internal sealed class SyntheticTokenGenerator(MoeModel model, IReadOnlyCollection<int> stopTokens) : ITokenGenerator
{
    private readonly BatchGenerator _generator = new(model, stopTokens);
    private readonly Lock _gate = new();
    private Task _last = Task.CompletedTask;

    public GenerationHandle Submit(GenerationRequest request, CancellationToken cancellationToken)
    {
        request.Options.Validate();
        var channel = Channel.CreateUnbounded<int>();
        lock (_gate)
        {
            var run = RunAsync(_last, request, channel.Writer, cancellationToken);
            _last = run.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            return new GenerationHandle(channel.Reader, run);
        }
    }

    private async Task<GenerationResult> RunAsync(Task previous, GenerationRequest request, ChannelWriter<int> tokens, CancellationToken cancellationToken)
    {
        try
        {
            await previous.WaitAsync(cancellationToken);
            var results = await Task.Run(() => _generator.GenerateAsync([request], (_, token) => tokens.TryWrite(token), cancellationToken), cancellationToken);
            tokens.Complete();
            return results[0];
        }
        catch (Exception e)
        {
            tokens.Complete(e);
            throw;
        }
    }
}
