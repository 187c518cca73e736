using System.Text.Json.Serialization;

namespace DeepSeekOperator.Serving.Router;

/// <summary>The per-(layer, expert) token counts a router serves at <c>GET /v1/expert-load</c>.</summary>
/// <param name="Since">When the router started counting.</param>
/// <param name="WindowSeconds">How far back <see cref="LayerExpertLoad.Window"/> reaches.</param>
/// <param name="Layers">Every MoE layer, ascending.</param>
public sealed record ExpertLoadSnapshot(
    [property: JsonPropertyName("since")] DateTimeOffset Since,
    [property: JsonPropertyName("windowSeconds")] double WindowSeconds,
    [property: JsonPropertyName("layers")] IReadOnlyList<LayerExpertLoad> Layers);

/// <summary>The tokens routed to each expert of one MoE layer.</summary>
/// <param name="Layer">The layer's index among all layers.</param>
/// <param name="Total">Tokens per expert id since <see cref="ExpertLoadSnapshot.Since"/>.</param>
/// <param name="Window">Tokens per expert id in the last <see cref="ExpertLoadSnapshot.WindowSeconds"/>.</param>
public sealed record LayerExpertLoad(
    [property: JsonPropertyName("layer")] int Layer,
    [property: JsonPropertyName("total")] IReadOnlyList<long> Total,
    [property: JsonPropertyName("window")] IReadOnlyList<long> Window);
