using System.Text.Json.Serialization;

namespace DeepSeekOperator.Serving.Router;

/// <summary>
/// What a router answers at <c>GET /v1/placement</c>: the placement revision it dispatches with, the one its
/// placement file holds when that differs (waiting until every shard has a replica serving it), and what each
/// shard's replicas reported at their last <c>GetInfo</c>.
/// </summary>
/// <param name="ModelId">The model the router serves.</param>
/// <param name="Revision">The placement revision steps are dispatched with.</param>
/// <param name="Pending">The revision of the router's placement file when it is not <paramref name="Revision"/>; null otherwise.</param>
/// <param name="Shards">Every shard of <paramref name="Revision"/>, in order.</param>
public sealed record RouterPlacementState(
    [property: JsonPropertyName("modelId")] string ModelId,
    [property: JsonPropertyName("revision")] long Revision,
    [property: JsonPropertyName("pending")] long? Pending,
    [property: JsonPropertyName("shards")] IReadOnlyList<ShardPlacementState> Shards);

/// <summary>One shard's replicas as a router knows them.</summary>
/// <param name="Shard">The shard's index.</param>
/// <param name="Replicas">The replicas the router's discovery found, with their last reported state.</param>
public sealed record ShardPlacementState(
    [property: JsonPropertyName("shard")] int Shard,
    [property: JsonPropertyName("replicas")] IReadOnlyList<ReplicaPlacementState> Replicas);

/// <summary>One shard replica as a router knows it.</summary>
/// <param name="Endpoint">Where the replica listens, <c>host:port</c>.</param>
/// <param name="Reachable">Whether its last call or probe succeeded.</param>
/// <param name="Revisions">The placement revisions its last <c>GetInfo</c> listed, ascending; empty when unreachable or not yet asked.</param>
public sealed record ReplicaPlacementState(
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("reachable")] bool Reachable,
    [property: JsonPropertyName("revisions")] IReadOnlyList<long> Revisions);
