namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>The float64 building blocks of the reference, as plain loops over flat row-major arrays.</summary>
internal static class RefMath
{
    /// <summary><c>x / sqrt(mean(x²) + eps) * w</c>, element-wise over one vector.</summary>
    public static double[] RmsNorm(double[] x, double[] w, double eps)
    {
        if (w.Length != x.Length)
        {
            throw new ArgumentException($"RmsNorm: weight has {w.Length} elements, input has {x.Length}", nameof(w));
        }

        double sumOfSquares = 0;
        foreach (var v in x)
        {
            sumOfSquares += v * v;
        }

        var inverseRms = 1 / Math.Sqrt((sumOfSquares / x.Length) + eps);
        var y = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            y[i] = x[i] * inverseRms * w[i];
        }

        return y;
    }

    /// <summary><c>v · sigmoid(v)</c>.</summary>
    public static double Silu(double v) => v * Sigmoid(v);

    /// <summary><c>1 / (1 + e^-v)</c>.</summary>
    public static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary><c>y = W x</c> for <c>W</c> of shape [out, in] stored row-major; out is <c>w.Length / x.Length</c>.</summary>
    public static double[] Linear(double[] x, double[] w)
    {
        if (x.Length == 0 || w.Length % x.Length != 0)
        {
            throw new ArgumentException($"Linear: a weight of {w.Length} elements is not [out, {x.Length}]", nameof(w));
        }

        var rows = w.Length / x.Length;
        var y = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            double sum = 0;
            var offset = r * x.Length;
            for (var c = 0; c < x.Length; c++)
            {
                sum += w[offset + c] * x[c];
            }

            y[r] = sum;
        }

        return y;
    }

    /// <summary>Dot product of two equally long vectors.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Dot: lengths {a.Length} and {b.Length} differ");
        }

        double sum = 0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>Softmax with the maximum subtracted first; entries of -infinity get probability 0.</summary>
    public static double[] Softmax(double[] logits)
    {
        var max = double.NegativeInfinity;
        foreach (var v in logits)
        {
            max = Math.Max(max, v);
        }

        if (double.IsNegativeInfinity(max))
        {
            throw new ArgumentException("Softmax: every logit is -infinity", nameof(logits));
        }

        var y = new double[logits.Length];
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            y[i] = Math.Exp(logits[i] - max);
            sum += y[i];
        }

        for (var i = 0; i < y.Length; i++)
        {
            y[i] /= sum;
        }

        return y;
    }

    /// <summary>Element-wise sum of two equally long vectors.</summary>
    public static double[] Add(double[] a, double[] b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Add: lengths {a.Length} and {b.Length} differ");
        }

        var y = new double[a.Length];
        for (var i = 0; i < a.Length; i++)
        {
            y[i] = a[i] + b[i];
        }

        return y;
    }
}
