using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>
/// Dedicated threads that run experts side by side on the CPU, each single-threaded. An expert's matrix
/// products have a few dozen rows at typical batch sizes, where a BLAS call split over every core is markedly
/// less efficient than one core per call with the cores on different experts. Each worker makes its own
/// BLAS (MKL) and OpenMP thread count 1 through their thread-local settings, so nothing process-wide changes.
/// Where those settings cannot be reached (a libtorch build without them), <see cref="Create"/> returns null
/// and experts run one after another.
/// </summary>
internal sealed unsafe class ExpertWorkers : IDisposable
{
    private readonly BlockingCollection<Action>[] _queues;
    private readonly Thread[] _threads;

    private ExpertWorkers(int count, delegate* unmanaged<int*, int> mklLocal, delegate* unmanaged<int, void> ompThreads)
    {
        _queues = new BlockingCollection<Action>[count];
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            var queue = _queues[i] = new BlockingCollection<Action>();
            _threads[i] = new Thread(() =>
            {
                var one = 1;
                mklLocal(&one);
                if (ompThreads is not null)
                {
                    ompThreads(1);
                }

                foreach (var work in queue.GetConsumingEnumerable())
                {
                    work();
                }
            })
            {
                IsBackground = true,
                Name = $"expert-worker-{i}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>The number of workers.</summary>
    public int Count => _threads.Length;

    /// <summary>Workers for the CPU, one per core up to <paramref name="count"/>; null when one would do or the settings are out of reach.</summary>
    public static ExpertWorkers? Create(int count)
    {
        if (count < 2)
        {
            return null;
        }

        var assembly = typeof(ExpertWorkers).Assembly;
        if (!TryExport(assembly, ["libtorch_cpu.so"], "mkl_set_num_threads_local", out var mkl))
        {
            return null;
        }

        TryExport(assembly, ["libgomp-98b21ff3.so.1", "libgomp.so.1"], "omp_set_num_threads", out var omp);
        return new ExpertWorkers(count, (delegate* unmanaged<int*, int>)mkl, (delegate* unmanaged<int, void>)omp);
    }

    private static bool TryExport(Assembly assembly, string[] libraries, string symbol, out nint address)
    {
        foreach (var library in libraries)
        {
            if (NativeLibrary.TryLoad(library, assembly, null, out var handle) && NativeLibrary.TryGetExport(handle, symbol, out address))
            {
                return true;
            }
        }

        address = 0;
        return false;
    }

    /// <summary>Runs each part on its own worker and waits for all; the first failure is rethrown.</summary>
    public void Run(IReadOnlyList<Action> parts)
    {
        if (parts.Count > Count)
        {
            throw new ArgumentException($"{parts.Count} parts for {Count} workers", nameof(parts));
        }

        using var done = new CountdownEvent(parts.Count);
        var errors = new ConcurrentQueue<Exception>();
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            _queues[i].Add(() =>
            {
                try
                {
                    part();
                }
                catch (Exception ex)
                {
                    errors.Enqueue(ex);
                }
                finally
                {
                    done.Signal();
                }
            });
        }

        done.Wait();
        if (errors.TryDequeue(out var error))
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
    }

    public void Dispose()
    {
        foreach (var queue in _queues)
        {
            queue.CompleteAdding();
        }

        foreach (var thread in _threads)
        {
            thread.Join();
        }

        foreach (var queue in _queues)
        {
            queue.Dispose();
        }
    }
}
