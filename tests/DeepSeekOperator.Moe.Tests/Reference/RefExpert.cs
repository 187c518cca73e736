namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>A SwiGLU feed-forward block: a routed expert, a shared expert or a dense MLP.</summary>
internal static class RefExpert
{
    /// <summary>
    /// <c>down(silu(gate·x) ⊙ up·x)</c> with <paramref name="gate"/> and <paramref name="up"/> of shape
    /// [intermediate, H] and <paramref name="down"/> of shape [H, intermediate], all row-major.
    /// </summary>
    public static double[] Forward(double[] x, double[] gate, double[] up, double[] down, int intermediate)
    {
        var hidden = x.Length;
        Check(gate, intermediate, hidden, nameof(gate));
        Check(up, intermediate, hidden, nameof(up));
        Check(down, hidden, intermediate, nameof(down));

        var g = RefMath.Linear(x, gate);
        var u = RefMath.Linear(x, up);
        var activated = new double[intermediate];
        for (var i = 0; i < intermediate; i++)
        {
            activated[i] = RefMath.Silu(g[i]) * u[i];
        }

        return RefMath.Linear(activated, down);
    }

    private static void Check(double[] weight, int rows, int columns, string name)
    {
        if (weight.Length != (long)rows * columns)
        {
            throw new ArgumentException($"Expert: {name} has {weight.Length} elements, expected [{rows}, {columns}] = {(long)rows * columns}", name);
        }
    }
}
