using TorchSharp;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>
/// Scalars held for the life of the process. TorchSharp's implicit conversions (<c>t * 0.5</c>,
/// <c>masked_fill(m, -inf)</c>) and some of its overloads (<c>Tensor.add(Tensor)</c>, which passes an alpha of 1) make a
/// Scalar that nothing references during the native call, so a collection under load can free it mid-call. The model's
/// code passes these, or a <c>using</c> local, instead.
/// </summary>
internal static class Scalars
{
    /// <summary>1, the alpha of an addition.</summary>
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>Negative infinity, the mask value before a softmax or a top-k.</summary>
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();
}
