using System.Text.Json;
using System.Text.Json.Serialization;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Controller.Placement;

/// <summary>What a router answers at <c>GET /v1/expert-load</c>: its model, its placement revision and the snapshot of its counts.</summary>
/// <param name="ModelId">The model the router serves.</param>
/// <param name="PlacementRevision">The placement revision the router routes with.</param>
/// <param name="Since">When the router started counting.</param>
/// <param name="WindowSeconds">How far back each layer's window reaches.</param>
/// <param name="Layers">Every MoE layer's counts, ascending.</param>
public sealed record ExpertLoadReport(
    [property: JsonPropertyName("modelId")] string ModelId,
    [property: JsonPropertyName("placementRevision")] long PlacementRevision,
    [property: JsonPropertyName("since")] DateTimeOffset Since,
    [property: JsonPropertyName("windowSeconds")] double WindowSeconds,
    [property: JsonPropertyName("layers")] IReadOnlyList<LayerExpertLoad> Layers)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads a router's answer.</summary>
    /// <param name="router">The router that answered, named in messages.</param>
    /// <param name="json">The body.</param>
    /// <exception cref="ExpertLoadException">The body is not JSON of a snapshot: malformed, or a field missing, null or of the wrong type. The message names the router and the field's path.</exception>
    public static ExpertLoadReport Parse(string router, string json)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize<ExpertLoadReport>(json, JsonOptions)
                ?? throw new ExpertLoadException($"router {router}: the expert-load answer is null");
        }
        catch (JsonException e)
        {
            throw new ExpertLoadException($"router {router}: the expert-load answer is not valid ({e.Path}): {e.Message}", e);
        }
    }
}
