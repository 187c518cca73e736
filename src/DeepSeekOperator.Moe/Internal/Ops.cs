using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>The small functional building blocks of the architecture.</summary>
internal static class Ops
{
    /// <summary>RMSNorm computed in float32 and returned in the input's dtype: <c>w · x / sqrt(mean(x²) + eps)</c>.</summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, double eps)
    {
        using var scope = NewDisposeScope();
        using var epsilon = eps.ToScalar();
        var xf = x.to(ScalarType.Float32);
        var normed = xf * xf.mul(xf).mean([-1L], keepdim: true).add_(epsilon, Scalars.One).rsqrt_();
        return (normed.to(x.dtype) * weight).MoveToOuterDisposeScope();
    }

    /// <summary>SwiGLU with the gate and up projections fused in one weight <c>[2I, H]</c>: <c>down(silu(gate x) ⊙ up x)</c>.</summary>
    public static Tensor SwiGlu(Tensor x, Tensor gateUp, Tensor down)
    {
        using var scope = NewDisposeScope();
        var gu = nn.functional.linear(x, gateUp);
        var halves = gu.chunk(2, -1);
        var hidden = nn.functional.silu(halves[0]).mul_(halves[1]);
        return nn.functional.linear(hidden, down).MoveToOuterDisposeScope();
    }

    /// <summary>Bytes per element of a dtype.</summary>
    public static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Int16 => 2,
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no element size known"),
    };

    /// <summary>Fuses a gate and an up projection (each <c>[I, H]</c>) into one <c>[2I, H]</c> weight.</summary>
    public static Tensor FuseGateUp(Tensor gate, Tensor up) => cat([gate, up], 0).DetachFromDisposeScope();
}
