using System.Text.Json;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>Reads what a router answers at <c>GET /v1/placement</c> (<see cref="RouterPlacementState"/>).</summary>
public static class RouterPlacementReport
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads a router's answer and checks it is for <paramref name="modelId"/> with <paramref name="shards"/> shards, each listed once in order.</summary>
    /// <param name="router">The router that answered, named in messages.</param>
    /// <param name="json">The body.</param>
    /// <param name="modelId">The model the router must serve.</param>
    /// <param name="shards">The shard count the router's placement must have.</param>
    /// <exception cref="ExpertLoadException">The body is not JSON of a placement state (malformed, a field missing, null or of the wrong type), or is for another model or shard count; the message names the router and the field.</exception>
    public static RouterPlacementState Parse(string router, string json, string modelId, int shards)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(json);
        RouterPlacementState state;
        try
        {
            state = JsonSerializer.Deserialize<RouterPlacementState>(json, JsonOptions)
                ?? throw new ExpertLoadException($"router {router}: the placement answer is null");
        }
        catch (JsonException e)
        {
            throw new ExpertLoadException($"router {router}: the placement answer is not valid ({e.Path}): {e.Message}", e);
        }

        if (state.ModelId != modelId)
        {
            throw new ExpertLoadException($"router {router}: modelId is '{state.ModelId}', expected '{modelId}'");
        }

        if (state.Shards.Count != shards || state.Shards.Where((shard, k) => shard.Shard != k).Any())
        {
            throw new ExpertLoadException($"router {router}: shards lists [{string.Join(", ", state.Shards.Select(s => s.Shard))}], expected 0 to {shards - 1} in order");
        }

        return state;
    }
}
