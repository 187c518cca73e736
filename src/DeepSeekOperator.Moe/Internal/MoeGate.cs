using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>
/// The router of an MoE layer, computed in float32. <c>noaux_tc</c>: sigmoid scores, plus the correction
/// bias for the choice only; a group scores the sum of its two best biased scores; experts outside the
/// <c>topk_group</c> best groups are excluded (−∞, as DeepSeek's inference code does); the top
/// <c>num_experts_per_tok</c> by biased score are picked and weighted by their unbiased scores.
/// <c>greedy</c> and <c>group_limited_greedy</c> (V2) do the same on softmax scores without a bias, a group
/// scoring its best expert. Ties go to the lower index (a stable sort), so routing is deterministic.
/// </summary>
internal sealed class MoeGate : IDisposable
{
    private readonly ModelConfig _config;
    private readonly Tensor _weight;
    private readonly Tensor? _bias;
    private readonly Scalar _routedScalingFactor;

    /// <summary>Keeps the normalisation of the chosen weights finite when they are all zero.</summary>
    private static readonly Scalar Tiny = 1e-20.ToScalar();

    public MoeGate(ModelConfig config, Tensor weight, Tensor? bias)
    {
        _config = config;
        _weight = weight.to(ScalarType.Float32);
        _bias = bias?.to(ScalarType.Float32);
        if (!ReferenceEquals(_weight, weight))
        {
            weight.Dispose();
        }

        if (bias is not null && !ReferenceEquals(_bias, bias))
        {
            bias.Dispose();
        }

        if (config.TopKMethod == TopKMethod.NoAuxTc && _bias is null)
        {
            throw new ArgumentException("noaux_tc routing needs the gate's e_score_correction_bias", nameof(bias));
        }

        _routedScalingFactor = config.RoutedScalingFactor.ToScalar();
    }

    /// <summary>Chooses experts and weights for every row of <c>hidden [T, H]</c>.</summary>
    public ExpertAssignments Route(Tensor hidden)
    {
        var (experts, weights) = TopK(hidden);
        using (experts)
        using (weights)
        {
            var tokenCount = (int)hidden.shape[0];
            var k = _config.NumExpertsPerToken;
            var tokens = new int[tokenCount * k];
            for (var i = 0; i < tokens.Length; i++)
            {
                tokens[i] = i / k;
            }

            using var expertsCpu = experts.to(ScalarType.Int32, CPU);
            using var weightsCpu = weights.to(ScalarType.Float32, CPU);
            return new ExpertAssignments(tokenCount, tokens, expertsCpu.data<int>().ToArray(), weightsCpu.data<float>().ToArray());
        }
    }

    /// <summary>The chosen experts <c>[T, K]</c> (in order of choice) and their weights <c>[T, K]</c>.</summary>
    public (Tensor Experts, Tensor Weights) TopK(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var logits = nn.functional.linear(hidden.to(ScalarType.Float32), _weight);
        var scores = _config.ScoringFunction == ScoringFunction.Sigmoid ? logits.sigmoid() : logits.softmax(-1);
        var choice = _bias is null ? scores : scores.add(_bias, Scalars.One);
        if (_config.TopKMethod != TopKMethod.Greedy && _config.TopKGroup < _config.NGroup)
        {
            var tokens = hidden.shape[0];
            var grouped = choice.view(tokens, _config.NGroup, _config.ExpertsPerGroup);
            var groupScores = _config.TopKMethod == TopKMethod.NoAuxTc
                ? grouped.topk(2, dim: -1).values.sum(-1)
                : grouped.amax([-1L]);
            var keptGroups = groupScores.sort(-1, descending: true, stable: true).Indices.narrow(1, 0, _config.TopKGroup);
            var groupMask = zeros([tokens, _config.NGroup], ScalarType.Bool, hidden.device).scatter_(1, keptGroups, ones_like(keptGroups, dtype: ScalarType.Bool));
            var expertMask = groupMask.unsqueeze(-1).expand(tokens, _config.NGroup, _config.ExpertsPerGroup).reshape(tokens, _config.NRoutedExperts);
            choice = choice.masked_fill(expertMask.logical_not(), Scalars.NegativeInfinity);
        }

        var experts = choice.sort(-1, descending: true, stable: true).Indices.narrow(1, 0, _config.NumExpertsPerToken);
        var weights = scores.gather(1, experts);
        if (_config.NormTopKProb)
        {
            weights = weights / weights.sum(-1, keepdim: true).add_(Tiny, Scalars.One);
        }

        weights = weights.mul(_routedScalingFactor);
        return (experts.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        _weight.Dispose();
        _bias?.Dispose();
        _routedScalingFactor.Dispose();
    }
}
