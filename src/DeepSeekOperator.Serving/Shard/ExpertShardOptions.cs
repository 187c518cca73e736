using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Shard;

/// <summary>What one expert shard serves: its index in the current placement, the placement and the model.</summary>
public sealed record ExpertShardOptions
{
    /// <summary>The shard's index in <see cref="Locator"/>'s placement.</summary>
    public required int ShardIndex { get; init; }

    /// <summary>The placement of the current revision, indexed; requests routed with another revision are refused.</summary>
    public required ExpertLocator Locator { get; init; }

    /// <summary>The model's architecture (the one <see cref="Locator"/> was checked against).</summary>
    public required ModelConfig Config { get; init; }

    /// <summary>The element type the experts compute in, advertised to routers as the one that loses nothing on the wire.</summary>
    public TensorDtype Dtype { get; init; } = TensorDtype.Float32;

    /// <summary>The device the executor's experts live on; request tensors are created there.</summary>
    public Device Device { get; init; } = CPU;
}
