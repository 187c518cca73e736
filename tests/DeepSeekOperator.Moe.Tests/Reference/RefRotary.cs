namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>
/// Rotary position embedding over adjacent pairs (2i, 2i+1) with frequency index i, and its YaRN extension exactly as
/// Hugging Face's <c>DeepseekV3YarnRotaryEmbedding</c> computes it (in float64 here).
/// </summary>
internal static class RefRotary
{
    /// <summary>The inverse frequency of each of the <paramref name="dim"/>/2 pairs.</summary>
    public static double[] InverseFrequencies(int dim, double theta, RefRopeScaling? scaling)
    {
        if (dim <= 0 || dim % 2 != 0)
        {
            throw new ArgumentException($"Rotary: dimension must be positive and even, got {dim}", nameof(dim));
        }

        var half = dim / 2;
        var extrapolated = new double[half];
        for (var i = 0; i < half; i++)
        {
            extrapolated[i] = 1 / Math.Pow(theta, 2.0 * i / dim);
        }

        if (scaling is null)
        {
            return extrapolated;
        }

        // Pairs that turn many times over the original context keep their frequency (extrapolation); pairs that turn
        // less than once are divided by the factor (interpolation); a linear ramp blends the ones in between.
        var (low, high) = CorrectionRange(scaling.BetaFast, scaling.BetaSlow, dim, theta, scaling.OriginalMaxPositionEmbeddings);
        var ramp = LinearRamp(low, high, half);
        var frequencies = new double[half];
        for (var i = 0; i < half; i++)
        {
            var interpolated = extrapolated[i] / scaling.Factor;
            var extrapolationShare = 1 - ramp[i];
            frequencies[i] = (interpolated * (1 - extrapolationShare)) + (extrapolated[i] * extrapolationShare);
        }

        return frequencies;
    }

    /// <summary>The inverse frequencies of a config's rotary dimensions.</summary>
    public static double[] InverseFrequencies(RefConfig config) =>
        InverseFrequencies(config.QkRopeHeadDim, config.RopeTheta, config.RopeScaling);

    /// <summary>The dimension (of <paramref name="dim"/>) whose pair turns <paramref name="rotations"/> times over the original context.</summary>
    public static double CorrectionDim(double rotations, int dim, double theta, int originalMaxPositions) =>
        dim * Math.Log(originalMaxPositions / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));

    /// <summary>Floor of the beta_fast dimension and ceiling of the beta_slow dimension, clamped to [0, dim - 1].</summary>
    public static (int Low, int High) CorrectionRange(double betaFast, double betaSlow, int dim, double theta, int originalMaxPositions)
    {
        var low = (int)Math.Floor(CorrectionDim(betaFast, dim, theta, originalMaxPositions));
        var high = (int)Math.Ceiling(CorrectionDim(betaSlow, dim, theta, originalMaxPositions));
        return (Math.Max(low, 0), Math.Min(high, dim - 1));
    }

    /// <summary><c>clamp((i - low) / (high - low), 0, 1)</c> for i in [0, count), with high nudged by 0.001 when equal to low.</summary>
    public static double[] LinearRamp(double low, double high, int count)
    {
        if (low == high)
        {
            high += 0.001;
        }

        var ramp = new double[count];
        for (var i = 0; i < count; i++)
        {
            ramp[i] = Math.Clamp((i - low) / (high - low), 0, 1);
        }

        return ramp;
    }

    /// <summary>Hugging Face's <c>yarn_get_mscale</c>: 1 when <paramref name="scale"/> ≤ 1, else <c>0.1·mscale·ln(scale) + 1</c>.</summary>
    public static double YarnGetMscale(double scale, double mscale) => scale <= 1 ? 1 : (0.1 * mscale * Math.Log(scale)) + 1;

    /// <summary>The multiplier of cos and sin: <c>mscale(factor, mscale) / mscale(factor, mscale_all_dim)</c>, 1 without YaRN.</summary>
    public static double CosSinScale(RefRopeScaling? scaling) =>
        scaling is null ? 1 : YarnGetMscale(scaling.Factor, scaling.Mscale) / YarnGetMscale(scaling.Factor, scaling.MscaleAllDim);

    /// <summary>The attention softmax scale: <c>qk_head_dim^-0.5</c>, times mscale(factor, mscale_all_dim)² when YaRN sets mscale_all_dim.</summary>
    public static double SoftmaxScale(RefConfig config)
    {
        var scale = 1 / Math.Sqrt(config.QkHeadDim);
        if (config.RopeScaling is { MscaleAllDim: not 0 } yarn)
        {
            var mscale = YarnGetMscale(yarn.Factor, yarn.MscaleAllDim);
            scale *= mscale * mscale;
        }

        return scale;
    }

    /// <summary>
    /// Rotates each adjacent pair (x[2i], x[2i+1]) by the angle <c>position · inverseFrequencies[i]</c> and multiplies by
    /// <paramref name="scale"/>: (a, b) → ((a cos − b sin)·scale, (b cos + a sin)·scale).
    /// </summary>
    public static double[] Rotate(ReadOnlySpan<double> x, int position, double[] inverseFrequencies, double scale = 1)
    {
        if (x.Length != 2 * inverseFrequencies.Length)
        {
            throw new ArgumentException($"Rotary: input has {x.Length} elements, expected {2 * inverseFrequencies.Length}", nameof(x));
        }

        var y = new double[x.Length];
        for (var i = 0; i < inverseFrequencies.Length; i++)
        {
            var angle = position * inverseFrequencies[i];
            var (sin, cos) = Math.SinCos(angle);
            var a = x[2 * i];
            var b = x[(2 * i) + 1];
            y[2 * i] = ((a * cos) - (b * sin)) * scale;
            y[(2 * i) + 1] = ((b * cos) + (a * sin)) * scale;
        }

        return y;
    }
}
