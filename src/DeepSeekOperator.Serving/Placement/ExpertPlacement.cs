using System.Text.Json;
using System.Text.Json.Serialization;
using DeepSeekOperator.Moe;

namespace DeepSeekOperator.Serving.Placement;

/// <summary>
/// Which routed experts each expert shard holds, for every MoE layer: the file the operator keeps in the
/// placement ConfigMap and every router and shard reads. An expert may be held by several shards (copies of a
/// hot expert); every shard has the same number of slots in every layer.
/// </summary>
public sealed record ExpertPlacement
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        WriteIndented = true,
    };

    /// <summary>The revision, raised whenever the placement changes; shards refuse calls routed with an older one.</summary>
    public required long Revision { get; init; }

    /// <summary>The model the placement is for.</summary>
    public required string ModelId { get; init; }

    /// <summary>How many expert shards there are (the expert-parallel degree).</summary>
    public required int Shards { get; init; }

    /// <summary>How many experts every shard holds in every MoE layer.</summary>
    public required int SlotsPerShard { get; init; }

    /// <summary>One entry per MoE layer of the model, in layer order.</summary>
    public required IReadOnlyList<LayerPlacement> Layers { get; init; }

    /// <summary>Reads a placement from its JSON form; <see cref="Validate"/> checks it against the model.</summary>
    /// <exception cref="PlacementException">The text is not JSON of a placement (malformed, a field missing or unknown).</exception>
    public static ExpertPlacement Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<ExpertPlacement>(json, JsonOptions)
                ?? throw new PlacementException("placement JSON is null");
        }
        catch (JsonException e)
        {
            throw new PlacementException($"placement JSON is not valid: {e.Message}", e);
        }
    }

    /// <summary>Writes the placement as indented JSON, the form <see cref="Parse"/> reads.</summary>
    public string Serialize() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// Checks the placement against the model: at least one shard; equal slots on every shard; one entry for
    /// exactly the model's MoE layers; expert ids in [0, n_routed_experts); no expert twice on one shard of a
    /// layer; every expert of every layer held at least once.
    /// </summary>
    /// <returns>Every problem found, each naming its layer, shard or expert; empty when the placement is valid.</returns>
    public IReadOnlyList<string> Validate(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return PlacementValidation.Problems(this, config);
    }

    /// <summary>Throws when <see cref="Validate"/> finds a problem.</summary>
    /// <exception cref="PlacementException">The placement does not fit the model; the message lists every problem.</exception>
    public void EnsureValid(ModelConfig config)
    {
        var problems = Validate(config);
        if (problems.Count > 0)
        {
            throw new PlacementException($"placement revision {Revision} of model '{ModelId}' is invalid:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", problems)}");
        }
    }
}

/// <summary>The experts each shard holds in one MoE layer.</summary>
public sealed record LayerPlacement
{
    /// <summary>The layer's index among all layers of the model.</summary>
    public required int Layer { get; init; }

    /// <summary>For each shard, in shard order, the expert ids it holds (<see cref="ExpertPlacement.SlotsPerShard"/> of them).</summary>
    public required IReadOnlyList<IReadOnlyList<int>> Experts { get; init; }
}

/// <summary>A placement that cannot be read, or that does not fit the model it is for.</summary>
public sealed class PlacementException : Exception
{
    /// <summary>Creates the exception with a message naming what is wrong, and the error that revealed it, if any.</summary>
    public PlacementException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
