using System.Text.Json.Nodes;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>
/// The data of a model's placement ConfigMap, the record of the published placement: <c>placement.json</c>, the
/// revision routers dispatch with, and one <c>shard-&lt;k&gt;.json</c> per shard, the revision shard k loads
/// (mounted in shard k's pods as their <c>placement.json</c>). While a new revision rolls out, the shards' keys
/// hold it one after another before the routers' key does; otherwise every key holds the same revision.
/// </summary>
/// <remarks>
/// Every key holds a whole placement, as every shard validates the whole of its file: at DeepSeek-V3's dimensions
/// (58 MoE layers, 32 shards of 9 slots) that is about 65 KB of one-line JSON per key, 2.1 MB for the 33 keys, more
/// than the 1 MiB a Kubernetes ConfigMap may hold (the dev cluster takes it).
/// </remarks>
/// <param name="Routers">The placement of <see cref="RoutersKey"/>.</param>
/// <param name="Shards">The placement of each shard's key, in shard order.</param>
public sealed record PublishedPlacement(ExpertPlacement Routers, IReadOnlyList<ExpertPlacement> Shards)
{
    /// <summary>The routers' key, and the file name every pod reads.</summary>
    public const string RoutersKey = "placement.json";

    /// <summary>The newest revision among the keys.</summary>
    public long Revision => Shards.Select(shard => shard.Revision).Append(Routers.Revision).Max();

    /// <summary>The key of shard <paramref name="shard"/>'s placement: <c>shard-&lt;k&gt;.json</c>.</summary>
    public static string ShardKey(int shard) => $"shard-{shard}.json";

    /// <summary>Every key holding <paramref name="placement"/>.</summary>
    public static PublishedPlacement Uniform(ExpertPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        return new PublishedPlacement(placement, [.. Enumerable.Repeat(placement, placement.Shards)]);
    }

    /// <summary>
    /// Reads a placement ConfigMap's data and checks that every key fits the model as the spec has it now: the
    /// model id, shard count and slots per shard, and the model's layers and experts (<see cref="ExpertPlacement.Validate"/>).
    /// </summary>
    /// <param name="data">The ConfigMap's data.</param>
    /// <param name="config">The model's architecture.</param>
    /// <param name="modelId">The model id every placement must be for.</param>
    /// <param name="shards">The spec's shard count.</param>
    /// <param name="slotsPerShard">The spec's slots per shard.</param>
    /// <exception cref="PlacementException">A key is missing, unreadable, or does not fit; the message names the key.</exception>
    public static PublishedPlacement Read(IDictionary<string, string>? data, ModelConfig config, string modelId, int shards, int slotsPerShard)
    {
        ArgumentNullException.ThrowIfNull(config);
        var routers = ReadKey(data, RoutersKey, config, modelId, shards, slotsPerShard);
        return new PublishedPlacement(routers, [.. Enumerable.Range(0, shards).Select(k => ReadKey(data, ShardKey(k), config, modelId, shards, slotsPerShard))]);
    }

    /// <summary>The newest revision among the keys of <paramref name="data"/> that hold a placement; 0 when none does.</summary>
    public static long NewestRevision(IDictionary<string, string>? data)
    {
        long newest = 0;
        foreach (var json in data?.Values ?? [])
        {
            try
            {
                newest = Math.Max(newest, ExpertPlacement.Parse(json).Revision);
            }
            catch (PlacementException)
            {
                // Not a placement: it holds no revision to follow.
            }
        }

        return newest;
    }

    /// <summary>
    /// <paramref name="placement"/> as one line of JSON, the form the ConfigMap holds: a ConfigMap holds at most 1 MiB,
    /// and the indented form of a DeepSeek-V3 placement is five times longer.
    /// </summary>
    public static string Json(ExpertPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(placement);
        return JsonNode.Parse(placement.Serialize())!.ToJsonString();
    }

    /// <summary>The ConfigMap data holding this record.</summary>
    public Dictionary<string, string> Data()
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal) { [RoutersKey] = Json(Routers) };
        for (var shard = 0; shard < Shards.Count; shard++)
        {
            data[ShardKey(shard)] = Json(Shards[shard]);
        }

        return data;
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
