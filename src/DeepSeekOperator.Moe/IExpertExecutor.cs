using static TorchSharp.torch;

namespace DeepSeekOperator.Moe;

/// <summary>
/// Runs the routed experts of an MoE layer: the boundary at which experts can live in another process.
/// </summary>
public interface IExpertExecutor
{
    /// <summary>
    /// Computes, for every token of the batch, the weighted sum of its assigned experts.
    /// </summary>
    /// <param name="layer">The MoE layer (its index among all layers).</param>
    /// <param name="hidden">The normalised hidden states, <c>[T, H]</c>.</param>
    /// <param name="assignments">The (token, expert, weight) triples the gate chose.</param>
    /// <param name="cancellationToken">Cancels the computation.</param>
    /// <returns>
    /// <c>[T, H]</c> in the dtype of <paramref name="hidden"/>; rows of tokens without an assignment are zero.
    /// The caller owns (and disposes) the tensor; it belongs to no dispose scope.
    /// </returns>
    ValueTask<Tensor> ForwardAsync(int layer, Tensor hidden, ExpertAssignments assignments, CancellationToken cancellationToken);
}
