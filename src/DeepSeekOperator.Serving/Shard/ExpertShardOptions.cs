using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Tensors;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Shard;

/// <summary>What one expert shard is, whatever placement revision it serves: its index, the model, how it computes.</summary>
public sealed record ExpertShardOptions
{
    /// <summary>The shard's index in every placement it serves.</summary>
    public required int ShardIndex { get; init; }

    /// <summary>The model's architecture (the one every placement is checked against).</summary>
    public required ModelConfig Config { get; init; }

    /// <summary>The element type the experts compute in, advertised to routers as the one that loses nothing on the wire.</summary>
    public TensorDtype Dtype { get; init; } = TensorDtype.Float32;

    /// <summary>The device the executors' experts live on; request tensors are created there.</summary>
    public Device Device { get; init; } = CPU;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">The message names the option.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Config);
        ArgumentNullException.ThrowIfNull(Device);
        if (ShardIndex < 0)
        {
            throw new ArgumentException($"ShardIndex must not be negative, got {ShardIndex}", nameof(ShardIndex));
        }

        if (!TensorBytes.IsSupported(Dtype))
        {
            throw new ArgumentException($"Dtype {(int)Dtype} is not one of TENSOR_DTYPE_FLOAT32, TENSOR_DTYPE_BFLOAT16", nameof(Dtype));
        }
    }
}
