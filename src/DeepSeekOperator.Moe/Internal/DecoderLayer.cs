using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>
/// One transformer block: <c>h = x + attn(norm(x))</c>, then <c>h + mlp(norm(h))</c> where the MLP is dense
/// or a mixture of experts (routed experts through the executor, plus shared experts computed here).
/// </summary>
internal sealed class DecoderLayer : IDisposable
{
    private readonly ModelConfig _config;
    private readonly Tensor _inputNorm;
    private readonly Tensor _postAttentionNorm;
    private readonly Tensor? _mlpGateUp;
    private readonly Tensor? _mlpDown;

    public DecoderLayer(ModelConfig config, int layer, Func<string, Tensor> take)
    {
        _config = config;
        Index = layer;
        string Name(string suffix) => ModelTensors.LayerTensor(layer, suffix);
        _inputNorm = take(Name("input_layernorm.weight"));
        _postAttentionNorm = take(Name("post_attention_layernorm.weight"));
        Attention = new MlaAttention(config, layer, take);
        var mlp = config.IsMoeLayer(layer) ? "mlp.shared_experts." : "mlp.";
        if (config.IsMoeLayer(layer))
        {
            Gate = new MoeGate(config, take(Name("mlp.gate.weight")), config.TopKMethod == TopKMethod.NoAuxTc ? take(Name("mlp.gate.e_score_correction_bias")) : null);
        }

        if (!config.IsMoeLayer(layer) || config.NSharedExperts > 0)
        {
            using var gate = take(Name(mlp + "gate_proj.weight"));
            using var up = take(Name(mlp + "up_proj.weight"));
            _mlpGateUp = Ops.FuseGateUp(gate, up);
            _mlpDown = take(Name(mlp + "down_proj.weight"));
        }
    }

    public int Index { get; }

    public MlaAttention Attention { get; }

    /// <summary>The router, for MoE layers.</summary>
    public MoeGate? Gate { get; }

    public bool IsMoe => Gate is not null;

    public Tensor InputNorm(Tensor x) => Ops.RmsNorm(x, _inputNorm, _config.RmsNormEps);

    public Tensor PostAttentionNorm(Tensor x) => Ops.RmsNorm(x, _postAttentionNorm, _config.RmsNormEps);

    /// <summary>The dense MLP, or the shared experts of an MoE layer (null when it has none).</summary>
    public Tensor? DenseOrShared(Tensor x) => _mlpGateUp is null ? null : Ops.SwiGlu(x, _mlpGateUp, _mlpDown!);

    /// <summary>
    /// The MoE block on normalised hidden states: routed experts through the executor plus shared experts.
    /// The result belongs to no dispose scope.
    /// </summary>
    public async ValueTask<Tensor> MoeAsync(Tensor normed, IExpertExecutor experts, Action<int, ExpertAssignments>? routed, CancellationToken cancellationToken)
    {
        var assignments = Gate!.Route(normed);
        routed?.Invoke(Index, assignments);
        var partial = await experts.ForwardAsync(Index, normed, assignments, cancellationToken).ConfigureAwait(false);
        if (_mlpGateUp is null)
        {
            return partial;
        }

        using (partial)
        using (NewDisposeScope())
        {
            return (partial.to(normed.dtype) + DenseOrShared(normed)!).DetachFromDisposeScope();
        }
    }

    /// <summary>The whole block. No dispose scope is held across the expert call.</summary>
    public async ValueTask<Tensor> ForwardAsync(Tensor x, Tensor cos, Tensor sin, IReadOnlyList<Segment> segments, IExpertExecutor experts, Action<int, ExpertAssignments>? routed, CancellationToken cancellationToken)
    {
        Tensor h, normed;
        using (NewDisposeScope())
        {
            var residual = x.add(Attention.Forward(InputNorm(x), cos, sin, segments), Scalars.One);
            var normedResidual = PostAttentionNorm(residual);
            h = residual.DetachFromDisposeScope();
            normed = normedResidual.DetachFromDisposeScope();
        }

        try
        {
            if (!IsMoe)
            {
                using (NewDisposeScope())
                {
                    return h.add(DenseOrShared(normed)!, Scalars.One).DetachFromDisposeScope();
                }
            }

            using var mlp = await MoeAsync(normed, experts, routed, cancellationToken).ConfigureAwait(false);
            using (NewDisposeScope())
            {
                return (h + mlp.to(h.dtype)).DetachFromDisposeScope();
            }
        }
        finally
        {
            h.Dispose();
            normed.Dispose();
        }
    }

    public void Dispose()
    {
        _inputNorm.Dispose();
        _postAttentionNorm.Dispose();
        _mlpGateUp?.Dispose();
        _mlpDown?.Dispose();
        Attention.Dispose();
        Gate?.Dispose();
    }
}
