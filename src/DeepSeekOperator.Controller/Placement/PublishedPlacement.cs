using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using k8s.Models;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>
/// The record of a model's published placement, one ConfigMap per reader, each holding one placement under
/// <see cref="Key"/>: <c>&lt;model&gt;-placement</c> the revision routers dispatch with, and
/// <c>&lt;model&gt;-placement-shard-&lt;k&gt;</c> the revision shard k loads (each mounted in its pods as their
/// <c>placement.json</c>). While a new revision rolls out, the shards' ConfigMaps hold it one after another before the
/// routers' does; otherwise every one holds the same revision.
/// </summary>
/// <remarks>
/// Every ConfigMap holds a whole placement, as every shard validates the whole of its file: at DeepSeek-V3's dimensions
/// (58 MoE layers, 32 shards of 9 slots) that is about 65 KB of one-line JSON, well within the 1 MiB a Kubernetes
/// ConfigMap may hold; the 33 placements together (2.1 MB) would not fit in one.
/// </remarks>
/// <param name="Routers">The placement of the routers' ConfigMap.</param>
/// <param name="Shards">The placement of each shard's ConfigMap, in shard order.</param>
public sealed record PublishedPlacement(ExpertPlacement Routers, IReadOnlyList<ExpertPlacement> Shards)
{
    /// <summary>The key of every placement ConfigMap, and the file name every pod reads.</summary>
    public const string Key = "placement.json";

    /// <summary>The newest revision among the ConfigMaps.</summary>
    public long Revision => Shards.Select(shard => shard.Revision).Append(Routers.Revision).Max();

    /// <summary>The name of model <paramref name="model"/>'s routers' placement ConfigMap: <c>&lt;model&gt;-placement</c>.</summary>
    public static string RoutersConfigMap(string model) => model + "-placement";

    /// <summary>The name of shard <paramref name="shard"/>'s placement ConfigMap: <c>&lt;model&gt;-placement-shard-&lt;k&gt;</c>.</summary>
    public static string ShardConfigMap(string model, int shard) => string.Create(CultureInfo.InvariantCulture, $"{model}-placement-shard-{shard}");

    /// <summary>Every ConfigMap holding <paramref name="placement"/>.</summary>
    public static PublishedPlacement Uniform(ExpertPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        return new PublishedPlacement(placement, [.. Enumerable.Repeat(placement, placement.Shards)]);
    }

    /// <summary>
    /// Reads a model's placement ConfigMaps and checks that each fits the model as the spec has it now: the model id,
    /// shard count and slots per shard, and the model's layers and experts (<see cref="ExpertPlacement.Validate"/>).
    /// </summary>
    /// <param name="configMaps">The ConfigMap of a name in the model's namespace; null when there is none.</param>
    /// <param name="config">The model's architecture.</param>
    /// <param name="model">The model's name, the model id every placement must be for.</param>
    /// <param name="shards">The spec's shard count.</param>
    /// <param name="slotsPerShard">The spec's slots per shard.</param>
    /// <exception cref="PlacementException">A ConfigMap or its key is missing, unreadable, or does not fit; the message names the ConfigMap.</exception>
    public static PublishedPlacement Read(Func<string, V1ConfigMap?> configMaps, ModelConfig config, string model, int shards, int slotsPerShard)
    {
        ArgumentNullException.ThrowIfNull(configMaps);
        ArgumentNullException.ThrowIfNull(config);
        var routers = ReadOne(configMaps, RoutersConfigMap(model), config, model, shards, slotsPerShard);
        return new PublishedPlacement(routers, [.. Enumerable.Range(0, shards).Select(k => ReadOne(configMaps, ShardConfigMap(model, k), config, model, shards, slotsPerShard))]);
    }

    /// <summary>The newest revision the ConfigMaps hold; 0 when none holds a placement.</summary>
    public static long NewestRevision(IEnumerable<V1ConfigMap?> configMaps)
    {
        ArgumentNullException.ThrowIfNull(configMaps);
        long newest = 0;
        foreach (var configMap in configMaps)
        {
            if (configMap?.Data?.TryGetValue(Key, out var json) != true)
            {
                continue;
            }

            try
            {
                newest = Math.Max(newest, ExpertPlacement.Parse(json!).Revision);
            }
            catch (PlacementException)
            {
                // Not a placement: it holds no revision to follow.
            }
        }

        return newest;
    }

    /// <summary>
    /// <paramref name="placement"/> as one line of JSON, the form the ConfigMaps hold: a ConfigMap holds at most 1 MiB,
    /// and the indented form of a DeepSeek-V3 placement is five times longer.
    /// </summary>
    public static string Json(ExpertPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        return JsonNode.Parse(placement.Serialize())!.ToJsonString();
    }

    /// <summary>The data of a placement ConfigMap holding <paramref name="placement"/>.</summary>
    public static Dictionary<string, string> Data(ExpertPlacement placement) => new(StringComparer.Ordinal) { [Key] = Json(placement) };

    private static ExpertPlacement ReadOne(Func<string, V1ConfigMap?> configMaps, string name, ModelConfig config, string modelId, int shards, int slotsPerShard)
    {
        if (configMaps(name) is not { } configMap)
        {
            throw new PlacementException($"ConfigMap {name} is missing");
        }

        try
        {
            return ReadKey(configMap.Data, Key, config, modelId, shards, slotsPerShard);
        }
        catch (PlacementException e)
        {
            throw new PlacementException($"ConfigMap {name}: {e.Message}", e);
        }
    }

    private static ExpertPlacement ReadKey(IDictionary<string, string>? data, string key, ModelConfig config, string modelId, int shards, int slotsPerShard)
    {
        if (data is null || !data.TryGetValue(key, out var json))
        {
            throw new PlacementException($"data.{key} is missing");
        }

        ExpertPlacement placement;
        try
        {
            placement = ExpertPlacement.Parse(json);
        }
        catch (PlacementException e)
        {
            throw new PlacementException($"data.{key}: {e.Message}", e);
        }

        var problems = new List<string>();
        if (placement.ModelId != modelId)
        {
            problems.Add($"modelId is '{placement.ModelId}', expected '{modelId}'");
        }

        if (placement.Shards != shards)
        {
            problems.Add($"shards is {placement.Shards}, expected {shards}");
        }

        if (placement.SlotsPerShard != slotsPerShard)
        {
            problems.Add($"slotsPerShard is {placement.SlotsPerShard}, expected {slotsPerShard}");
        }

        if (problems.Count == 0)
        {
            problems.AddRange(placement.Validate(config));
        }

        return problems.Count == 0
            ? placement
            : throw new PlacementException($"data.{key} (revision {placement.Revision}) does not fit the model: {string.Join("; ", problems)}");
    }
}
