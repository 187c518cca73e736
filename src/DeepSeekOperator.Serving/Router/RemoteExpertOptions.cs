using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Tensors;

namespace DeepSeekOperator.Serving.Router;

/// <summary>How a router's <see cref="RemoteExpertExecutor"/> calls the expert shards.</summary>
public sealed record RemoteExpertOptions
{
    /// <summary>The model's architecture; placements are checked against it.</summary>
    public required ModelConfig Config { get; init; }

    /// <summary>The element type hidden states and partial results travel in (float32 loses nothing; bfloat16 halves the bytes).</summary>
    public TensorDtype WireDtype { get; init; } = TensorDtype.Float32;

    /// <summary>How long one call to a shard replica may take; a call that runs out is retried once on another replica.</summary>
    public TimeSpan StepDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a replica whose call failed is skipped, unless no other replica of its shard is left to try.</summary>
    public TimeSpan ReplicaCooldown { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How often every replica is asked for its <c>ShardInfo</c> (those not known to be good, and while a new placement
    /// waits those not yet serving it, also as soon as that is known); also the longest a channel waits before
    /// connecting again to a replica that went away.
    /// </summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range; the message names it.</exception>
    public void Validate()
    {
        if (Config is null)
        {
            throw new ArgumentException("Config is required", nameof(Config));
        }

        if (!TensorBytes.IsSupported(WireDtype))
        {
            throw new ArgumentException($"WireDtype {(int)WireDtype} is not one of TENSOR_DTYPE_FLOAT32, TENSOR_DTYPE_BFLOAT16", nameof(WireDtype));
        }

        if (StepDeadline <= TimeSpan.Zero)
        {
            throw new ArgumentException($"StepDeadline must be positive, got {StepDeadline}", nameof(StepDeadline));
        }

        if (ReplicaCooldown < TimeSpan.Zero)
        {
            throw new ArgumentException($"ReplicaCooldown must not be negative, got {ReplicaCooldown}", nameof(ReplicaCooldown));
        }

        if (ProbeInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ProbeInterval must be positive, got {ProbeInterval}", nameof(ProbeInterval));
        }
    }
}
