using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Tests.Discovery;

/// <summary>A logger that keeps every message, for a test to wait for one or to check that nothing went wrong.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly Lock gate = new();
    private readonly List<(LogLevel Level, string Message)> entries = [];
    private TaskCompletionSource logged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The messages at warning level or above, each with its exception.</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (gate)
            {
                return [.. entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message)];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        TaskCompletionSource previous;
        lock (gate)
        {
            entries.Add((logLevel, exception is null ? formatter(state, exception) : $"{formatter(state, exception)}: {exception}"));
            previous = logged;
            logged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.SetResult();
    }

    /// <summary>The first message containing <paramref name="text"/>, waiting up to 10 s for it to be logged.</summary>
    public async Task<string> WaitForAsync(string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            Task next;
            lock (gate)
            {
                var found = entries.FirstOrDefault(e => e.Message.Contains(text, StringComparison.Ordinal)).Message;
                if (found is not null)
                {
                    return found;
                }

                next = logged.Task;
            }

            try
            {
                await next.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"nothing containing '{text}' was logged within 10 s");
            }
        }
    }
}
