using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Hosting.Internal;

/// <summary>
/// The long-running loops of a host, each on the thread pool until the host stops. A loop that throws is logged
/// at Critical and named by <see cref="Failure"/> (for <c>/healthz</c> to fail on) instead of vanishing until the host
/// is disposed; the tasks never fault, so disposal always gets past them.
/// </summary>
internal sealed class BackgroundLoops(ILogger logger, CancellationToken stopping)
{
    private readonly List<Task> _loops = [];
    private string? _failure;

    /// <summary>What stopped the first loop that failed; null while every loop runs (or ended on stopping).</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>Starts <paramref name="loop"/>, named <paramref name="name"/> in the log and in <see cref="Failure"/>.</summary>
    public void Start(string name, Func<CancellationToken, Task> loop) =>
        _loops.Add(Task.Run(() => SuperviseAsync(name, loop), CancellationToken.None));

    /// <summary>Completes when every loop has ended.</summary>
    public Task WhenAllEnded() => Task.WhenAll(_loops);

    private async Task SuperviseAsync(string name, Func<CancellationToken, Task> loop)
    {
        try
        {
            await loop(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped.
        }
        catch (Exception e)
        {
            HostingLog.LoopFailed(logger, name, e);
            Interlocked.CompareExchange(ref _failure, $"the {name} stopped: {e.Message}", null);
        }
    }
}
