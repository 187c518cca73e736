using System.Collections.ObjectModel;
using System.Diagnostics;

namespace DeepSeekOperator.Serving.Tests.Hosting;

/// <summary>
/// Where an in-memory exporter puts the spans it exports (as each ends), for a test to wait for the ones it
/// expects. Spans of other tests running at the same time land here too: look for them by trace id.
/// </summary>
internal sealed class RecordedSpans : Collection<Activity>
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _added = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The ended spans of <paramref name="traceId"/>, once <paramref name="done"/> accepts them; fails after 10 s.</summary>
    public async Task<IReadOnlyList<Activity>> WaitForTraceAsync(ActivityTraceId traceId, Func<IReadOnlyList<Activity>, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            Task next;
            List<Activity> trace;
            lock (_gate)
            {
                trace = [.. Items.Where(span => span.TraceId == traceId)];
                next = _added.Task;
            }

            if (done(trace))
            {
                return trace;
            }

            try
            {
                await next.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"trace {traceId} was not complete within 10 s; spans: {string.Join(", ", trace.Select(s => $"{s.OperationName} ({s.Kind})"))}");
            }
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        TaskCompletionSource added;
        lock (_gate)
        {
            base.InsertItem(index, item);
            added = _added;
            _added = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        added.SetResult();
    }
}
