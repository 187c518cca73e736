using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Serving.Router;

/// <summary>
/// Counts the tokens the gate sends to each (MoE layer, routed expert): since the router started, and over a
/// sliding window, for the placement planner that reads them at <c>GET /v1/expert-load</c>. The window is kept
/// as ten buckets, so it covers the last <c>window</c> to a tenth of it. Thread-safe; recording costs one pass over
/// the assignments and a short lock.
/// </summary>
public sealed class ExpertLoadTracker
{
    private const int Buckets = 10;

    private readonly ModelConfig _config;
    private readonly TimeSpan _window;
    private readonly long _bucketTicks;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _since;
    private readonly IReadOnlyList<int> _layers;
    private readonly int[] _slotOfLayer;
    private readonly Lock _gate = new();
    private readonly long[][] _total;
    private readonly long[][][] _buckets;
    private readonly long[] _bucketEpochs;

    /// <summary>Starts counting now.</summary>
    /// <param name="config">The model: its MoE layers and routed experts.</param>
    /// <param name="window">How far back the window's counts reach.</param>
    /// <param name="time">The clock; the system's by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="window"/> is shorter than a millisecond.</exception>
    public ExpertLoadTracker(ModelConfig config, TimeSpan window, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.FromMilliseconds(1));
        _config = config;
        _window = window;
        _bucketTicks = Math.Max(1, window.Ticks / Buckets);
        _time = time ?? TimeProvider.System;
        _since = _time.GetUtcNow();
        _layers = config.MoeLayers;
        _slotOfLayer = Enumerable.Repeat(-1, config.NumHiddenLayers).ToArray();
        for (var slot = 0; slot < _layers.Count; slot++)
        {
            _slotOfLayer[_layers[slot]] = slot;
        }

        _total = NewCounts();
        _buckets = [.. Enumerable.Range(0, Buckets).Select(_ => NewCounts())];
        _bucketEpochs = Enumerable.Repeat(-1L, Buckets).ToArray();
    }

    /// <summary>Counts one routed batch of <paramref name="layer"/>: one for each (token, expert) assignment.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not an MoE layer, or an assignment names an expert outside the model.</exception>
    public void Record(int layer, ExpertAssignments assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var slot = (uint)layer < (uint)_slotOfLayer.Length ? _slotOfLayer[layer] : -1;
        if (slot < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, "layer is not an MoE layer of the model");
        }

        var counts = new long[_config.NRoutedExperts];
        foreach (var expert in assignments.Experts)
        {
            if ((uint)expert >= (uint)counts.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(assignments), expert, $"expert is outside 0..{counts.Length - 1}");
            }

            counts[expert]++;
        }

        lock (_gate)
        {
            var bucket = CurrentBucket();
            for (var expert = 0; expert < counts.Length; expert++)
            {
                _total[slot][expert] += counts[expert];
                bucket[slot][expert] += counts[expert];
            }
        }
    }

    /// <summary>The counts as they stand.</summary>
    public ExpertLoadSnapshot Snapshot()
    {
        lock (_gate)
        {
            var epoch = Epoch();
            var window = NewCounts();
            for (var b = 0; b < Buckets; b++)
            {
                if (_bucketEpochs[b] > epoch - Buckets)
                {
                    for (var slot = 0; slot < _layers.Count; slot++)
                    {
                        for (var expert = 0; expert < _config.NRoutedExperts; expert++)
                        {
                            window[slot][expert] += _buckets[b][slot][expert];
                        }
                    }
                }
            }

            return new ExpertLoadSnapshot(
                _since,
                _window.TotalSeconds,
                [.. _layers.Select((layer, slot) => new LayerExpertLoad(layer, [.. _total[slot]], window[slot]))]);
        }
    }

    private long Epoch() => (_time.GetUtcNow() - _since).Ticks / _bucketTicks;

    /// <summary>The bucket of the current time, emptied first when it last counted an older period.</summary>
    private long[][] CurrentBucket()
    {
        var epoch = Epoch();
        var b = (int)(epoch % Buckets);
        if (_bucketEpochs[b] != epoch)
        {
            foreach (var layer in _buckets[b])
            {
                Array.Clear(layer);
            }

            _bucketEpochs[b] = epoch;
        }

        return _buckets[b];
    }

    private long[][] NewCounts() => [.. _layers.Select(_ => new long[_config.NRoutedExperts])];
}
