using System.Globalization;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>The load of every routed expert of one MoE layer.</summary>
/// <param name="Layer">The layer's index among all layers of the model.</param>
/// <param name="Experts">The load of each expert id (tokens routed to it, or any other non-negative measure).</param>
public sealed record LayerLoad(int Layer, IReadOnlyList<double> Experts);

/// <summary>
/// A per-(MoE layer, routed expert) load matrix: the input of <see cref="PlacementPlanner"/>. Every layer has the
/// same number of experts; every load is a finite number of at least 0. Layers are kept in ascending order.
/// </summary>
public sealed class ExpertLoad
{
    private readonly int[] _layers;
    private readonly double[][] _loads;

    /// <summary>Checks and copies <paramref name="layers"/>.</summary>
    /// <exception cref="ArgumentException">No layer; a layer listed twice or negative; layers with different expert counts, or none; a load that is negative, NaN or infinite. The message names the layer and expert.</exception>
    public ExpertLoad(IEnumerable<LayerLoad> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var list = layers.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("layers: the load needs at least one MoE layer", nameof(layers));
        }

        list.Sort((a, b) => (a?.Layer ?? -1).CompareTo(b?.Layer ?? -1));
        _layers = new int[list.Count];
        _loads = new double[list.Count][];
        for (var i = 0; i < list.Count; i++)
        {
            var layer = list[i] ?? throw new ArgumentException("layers: an entry is null", nameof(layers));
            if (layer.Layer < 0)
            {
                throw new ArgumentException($"layers: layer {layer.Layer} is negative", nameof(layers));
            }

            if (i > 0 && _layers[i - 1] == layer.Layer)
            {
                throw new ArgumentException($"layers: layer {layer.Layer} is listed more than once", nameof(layers));
            }

            var experts = layer.Experts ?? throw new ArgumentException($"layers: layer {layer.Layer} has no expert loads", nameof(layers));
            if (experts.Count == 0)
            {
                throw new ArgumentException($"layers: layer {layer.Layer} has no experts", nameof(layers));
            }

            if (i > 0 && experts.Count != _loads[0].Length)
            {
                throw new ArgumentException($"layers: layer {layer.Layer} has {experts.Count} experts, layer {_layers[0]} has {_loads[0].Length}", nameof(layers));
            }

            var row = new double[experts.Count];
            for (var expert = 0; expert < row.Length; expert++)
            {
                var value = experts[expert];
                if (!(value >= 0) || double.IsInfinity(value))
                {
                    throw new ArgumentException($"layers: layer {layer.Layer} expert {expert}: the load must be a finite number of at least 0, got {value.ToString(CultureInfo.InvariantCulture)}", nameof(layers));
                }

                row[expert] = value;
            }

            _layers[i] = layer.Layer;
            _loads[i] = row;
        }
    }

    /// <summary>The MoE layers, ascending.</summary>
    public IReadOnlyList<int> Layers => _layers;

    /// <summary>The number of routed experts in every layer.</summary>
    public int Experts => _loads[0].Length;

    /// <summary>The load of each expert of <paramref name="layer"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The load has no such layer.</exception>
    public IReadOnlyList<double> ForLayer(int layer) => Row(layer);

    /// <summary>
    /// Sums the snapshots that routers serve at <c>/v1/expert-load</c>. The recent window is used when any
    /// router counted a token in it, otherwise the totals since each router started: one or the other for all
    /// routers, so that counts over different spans are never added together.
    /// </summary>
    /// <param name="modelId">The model every snapshot must be for.</param>
    /// <param name="experts">The model's routed experts: the length of every snapshot's counts.</param>
    /// <param name="snapshots">Each router's snapshot, by router name (the name used in messages).</param>
    /// <exception cref="ExpertLoadException">No snapshot; a snapshot for another model, with other layers, with counts of another length, or with negative counts. The message names the router and field.</exception>
    public static ExpertLoad FromRouters(string modelId, int experts, IReadOnlyDictionary<string, ExpertLoadReport> snapshots)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelId);
        ArgumentOutOfRangeException.ThrowIfLessThan(experts, 1);
        ArgumentNullException.ThrowIfNull(snapshots);
        if (snapshots.Count == 0)
        {
            throw new ExpertLoadException("no router answered with an expert-load snapshot");
        }

        var routers = snapshots.Keys.Order(StringComparer.Ordinal).ToList();
        int[]? layers = null;
        string? first = null;
        foreach (var router in routers)
        {
            var report = snapshots[router];
            if (report.ModelId != modelId)
            {
                throw new ExpertLoadException($"router {router}: modelId is '{report.ModelId}', expected '{modelId}'");
            }

            var reported = report.Layers.Select(l => l.Layer).ToArray();
            for (var i = 1; i < reported.Length; i++)
            {
                if (reported[i] <= reported[i - 1])
                {
                    throw new ExpertLoadException($"router {router}: layers must be ascending and distinct, got [{string.Join(", ", reported)}]");
                }
            }

            if (layers is null)
            {
                layers = reported;
                first = router;
            }
            else if (!reported.AsSpan().SequenceEqual(layers))
            {
                throw new ExpertLoadException($"router {router}: layers [{string.Join(", ", reported)}] differ from router {first}'s [{string.Join(", ", layers)}]");
            }

            foreach (var layer in report.Layers)
            {
                CheckCounts(router, layer.Layer, "total", layer.Total, experts);
                CheckCounts(router, layer.Layer, "window", layer.Window, experts);
            }
        }

        var listed = layers!;
        var useWindow = routers.Any(r => snapshots[r].Layers.Any(l => l.Window.Any(c => c > 0)));
        var sums = listed.Select(_ => new long[experts]).ToArray();
        foreach (var router in routers)
        {
            var reportLayers = snapshots[router].Layers;
            for (var i = 0; i < reportLayers.Count; i++)
            {
                var counts = useWindow ? reportLayers[i].Window : reportLayers[i].Total;
                for (var expert = 0; expert < experts; expert++)
                {
                    sums[i][expert] += counts[expert];
                }
            }
        }

        return new ExpertLoad(listed.Select((layer, i) => new LayerLoad(layer, [.. sums[i].Select(c => (double)c)])));
    }

    /// <summary>The loads of <paramref name="layer"/>, shared: callers in this assembly never write to it.</summary>
    internal double[] Row(int layer)
    {
        var index = Array.BinarySearch(_layers, layer);
        return index >= 0
            ? _loads[index]
            : throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the load has no layer {layer}; it has {string.Join(", ", _layers)}");
    }

    private static void CheckCounts(string router, int layer, string field, IReadOnlyList<long> counts, int experts)
    {
        if (counts is null)
        {
            throw new ExpertLoadException($"router {router}: layer {layer} has no {field}");
        }

        if (counts.Count != experts)
        {
            throw new ExpertLoadException($"router {router}: layer {layer} {field} has {counts.Count} experts, the model has {experts}");
        }

        for (var expert = 0; expert < counts.Count; expert++)
        {
            if (counts[expert] < 0)
            {
                throw new ExpertLoadException($"router {router}: layer {layer} {field}[{expert}] is negative ({counts[expert]})");
            }
        }
    }
}

/// <summary>A router's answer (its expert-load snapshot or its placement state) that cannot be read or does not fit the model.</summary>
public sealed class ExpertLoadException : Exception
{
    /// <summary>Creates the exception with a message naming the router and field, and the error that revealed it, if any.</summary>
    public ExpertLoadException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
