using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>
/// Rotary position embedding over adjacent pairs <c>(2i, 2i+1)</c> of the rope dimensions, with YaRN or
/// linear scaling as <c>rope_scaling</c> says. Frequencies follow Hugging Face's
/// <c>DeepseekV3YarnRotaryEmbedding</c>; angles are computed in float64 for every step's positions, so no
/// table bounded by a maximum length is kept.
/// </summary>
internal sealed class RotaryEmbedding : IDisposable
{
    private readonly Tensor _inverseFrequencies;
    private readonly Scalar _positionScale;
    private readonly Scalar _magnitude;

    public RotaryEmbedding(ModelConfig config, Device device)
    {
        var frequencies = InverseFrequencies(config, out var magnitude);
        _magnitude = magnitude.ToScalar();
        _positionScale = (config.RopeScaling is { Type: "linear", Factor: var factor } ? 1.0 / factor : 1.0).ToScalar();
        _inverseFrequencies = tensor(frequencies, dtype: ScalarType.Float64, device: device);
    }

    /// <summary>The per-pair inverse frequencies, and the factor YaRN multiplies cos and sin by.</summary>
    public static double[] InverseFrequencies(ModelConfig config, out double magnitude)
    {
        var dim = config.QkRopeHeadDim;
        var half = dim / 2;
        var extrapolated = new double[half];
        for (var i = 0; i < half; i++)
        {
            extrapolated[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / dim);
        }

        magnitude = 1.0;
        if (config.RopeScaling is not { IsYarn: true } yarn)
        {
            return extrapolated;
        }

        var (low, high) = CorrectionRange(yarn.BetaFast, yarn.BetaSlow, dim, config.RopeTheta, yarn.OriginalMaxPositionEmbeddings);
        var highRamp = high == low ? high + 0.001 : high;
        var result = new double[half];
        for (var i = 0; i < half; i++)
        {
            var ramp = Math.Clamp((i - low) / (highRamp - low), 0.0, 1.0);
            var extrapolationWeight = 1.0 - ramp;
            var interpolated = extrapolated[i] / yarn.Factor;
            result[i] = (interpolated * (1 - extrapolationWeight)) + (extrapolated[i] * extrapolationWeight);
        }

        magnitude = RopeScaling.YarnMScale(yarn.Factor, yarn.MScale) / RopeScaling.YarnMScale(yarn.Factor, yarn.MScaleAllDim);
        return result;
    }

    private static (double Low, double High) CorrectionRange(double betaFast, double betaSlow, int dim, double theta, int originalMax)
    {
        double CorrectionDim(double rotations) => dim * Math.Log(originalMax / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
        var low = Math.Floor(CorrectionDim(betaFast));
        var high = Math.Ceiling(CorrectionDim(betaSlow));
        return (Math.Max(low, 0), Math.Min(high, dim - 1));
    }

    /// <summary>Cos and sin, <c>[T, rope/2]</c> in <paramref name="dtype"/>, for the given positions.</summary>
    public (Tensor Cos, Tensor Sin) Angles(Tensor positions, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var angles = positions.to(ScalarType.Float64).mul(_positionScale).unsqueeze(-1) * _inverseFrequencies.unsqueeze(0);
        var cos = angles.cos().mul_(_magnitude).to(dtype).MoveToOuterDisposeScope();
        var sin = angles.sin().mul_(_magnitude).to(dtype).MoveToOuterDisposeScope();
        return (cos, sin);
    }

    /// <summary>Rotates <c>x [T, heads, rope]</c> by the angles of each token's position.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        var shape = x.shape;
        var pairs = x.to(ScalarType.Float32).view(shape[0], shape[1], shape[2] / 2, 2);
        var even = pairs.select(-1, 0);
        var odd = pairs.select(-1, 1);
        var c = cos.unsqueeze(1);
        var s = sin.unsqueeze(1);
        var rotated = stack([(even * c) - (odd * s), (even * s).add_(odd * c, Scalars.One)], -1);
        return rotated.view(shape).to(x.dtype).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _inverseFrequencies.Dispose();
        _positionScale.Dispose();
        _magnitude.Dispose();
    }
}
