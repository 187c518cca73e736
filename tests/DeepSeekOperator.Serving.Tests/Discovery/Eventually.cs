namespace DeepSeekOperator.Serving.Tests.Discovery;

/// <summary>Waits for a watched value to reach a state.</summary>
internal static class Eventually
{
    /// <summary>The first value of <paramref name="values"/> that <paramref name="done"/> accepts; fails after 10 s with the last value seen.</summary>
    public static async Task<T> MatchAsync<T>(IAsyncEnumerable<T> values, Func<T, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var last = default(T);
        try
        {
            await foreach (var value in values.WithCancellation(timeout.Token))
            {
                last = value;
                if (done(value))
                {
                    return value;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }

        throw new Xunit.Sdk.XunitException($"not reached within 10 s; last seen: {last}");
    }
}
