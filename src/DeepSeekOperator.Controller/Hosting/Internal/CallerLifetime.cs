using Microsoft.Extensions.Hosting;

namespace DeepSeekOperator.Controller.Hosting.Internal;

/// <summary>Leaves the process's signals to the caller, which stops the operator host on Ctrl+C or SIGTERM.</summary>
internal sealed class CallerLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
