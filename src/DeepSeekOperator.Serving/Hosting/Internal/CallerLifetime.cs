using Microsoft.Extensions.Hosting;

namespace DeepSeekOperator.Serving.Hosting.Internal;

/// <summary>Leaves the process's signals to the caller (the command line stops a serving host on Ctrl+C).</summary>
internal sealed class CallerLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
