namespace DeepSeekOperator.Cli.Tests;

/// <summary>Output that completes <see cref="Seen"/> with the first line starting with a prefix.</summary>
internal sealed class LineWriter(string prefix) : StringWriter
{
    private readonly TaskCompletionSource<string> _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<string> Seen => _seen.Task;

    public override Task WriteLineAsync(string? value)
    {
        if (value is not null && value.StartsWith(prefix, StringComparison.Ordinal))
        {
            _seen.TrySetResult(value);
        }

        return base.WriteLineAsync(value);
    }
}
