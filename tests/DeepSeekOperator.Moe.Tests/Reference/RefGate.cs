namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>
/// The experts chosen for one token and their weights, in selection order: descending by the score used for the
/// choice (the biased score for <c>noaux_tc</c>), ties broken by the lower expert index.
/// </summary>
internal sealed record RefRouting(int[] Experts, double[] Weights);

/// <summary>The MoE router of one token, as DeepSeek-V3 (<c>noaux_tc</c>) and DeepSeek-V2 (<c>greedy</c>, <c>group_limited_greedy</c>) define it.</summary>
internal static class RefGate
{
    /// <summary>Added to the sum of the chosen scores before dividing by it, as Hugging Face does.</summary>
    public const double NormalisationEpsilon = 1e-20;

    /// <summary>
    /// Routes <paramref name="hidden"/> [H] with <paramref name="gateWeight"/> [E, H] (row e scores expert e) and, for
    /// <c>noaux_tc</c> only, the <c>e_score_correction_bias</c> <paramref name="bias"/> [E] (null reads as zeros).
    /// </summary>
    public static RefRouting Route(RefConfig config, double[] hidden, double[] gateWeight, double[]? bias)
    {
        config.Validate("config");
        var experts = config.NRoutedExperts
            ?? throw new ArgumentException("Gate: the config has no routed experts (n_routed_experts is null)", nameof(config));
        if (hidden.Length == 0 || gateWeight.Length != (long)experts * hidden.Length)
        {
            throw new ArgumentException(
                $"Gate: weight has {gateWeight.Length} elements, expected [{experts}, {hidden.Length}] = {(long)experts * hidden.Length}",
                nameof(gateWeight));
        }

        if (bias is not null && config.TopkMethod != "noaux_tc")
        {
            throw new ArgumentException($"Gate: e_score_correction_bias only applies to topk_method noaux_tc, not {config.TopkMethod}", nameof(bias));
        }

        if (bias is not null && bias.Length != experts)
        {
            throw new ArgumentException($"Gate: e_score_correction_bias has {bias.Length} elements, expected {experts}", nameof(bias));
        }

        var logits = RefMath.Linear(hidden, gateWeight);
        var scores = config.ScoringFunc == "softmax" ? RefMath.Softmax(logits) : logits.Select(RefMath.Sigmoid).ToArray();
        for (var e = 0; e < experts; e++)
        {
            if (double.IsNaN(scores[e]))
            {
                throw new ArgumentException($"Gate: the score of expert {e} is NaN", nameof(hidden));
            }
        }

        var choice = config.TopkMethod switch
        {
            "noaux_tc" => KeepBestGroups(config, Biased(scores, bias), SumOfTopTwo),
            "group_limited_greedy" => KeepBestGroups(config, scores, group => group.Max()),
            _ => scores,
        };

        var picked = TopK(choice, config.NumExpertsPerTok);
        var weights = picked.Select(e => scores[e]).ToArray();
        if (config.NormTopkProb)
        {
            var sum = weights.Sum() + NormalisationEpsilon;
            for (var k = 0; k < weights.Length; k++)
            {
                weights[k] /= sum;
            }
        }

        for (var k = 0; k < weights.Length; k++)
        {
            weights[k] *= config.RoutedScalingFactor;
        }

        return new RefRouting(picked, weights);
    }

    /// <summary>Indices of the <paramref name="k"/> largest values, largest first, ties to the lower index.</summary>
    public static int[] TopK(double[] values, int k) =>
        [.. Enumerable.Range(0, values.Length).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k)];

    private static double[] Biased(double[] scores, double[]? bias)
    {
        var biased = (double[])scores.Clone();
        if (bias is not null)
        {
            for (var e = 0; e < biased.Length; e++)
            {
                biased[e] += bias[e];
            }
        }

        return biased;
    }

    private static double SumOfTopTwo(double[] group)
    {
        var best = TopK(group, 2);
        return group[best[0]] + group[best[1]];
    }

    /// <summary>Scores each contiguous group, keeps the <c>topk_group</c> best (ties: lower group), and sets every other expert to -infinity.</summary>
    private static double[] KeepBestGroups(RefConfig config, double[] choice, Func<double[], double> groupScore)
    {
        if (config.TopkGroup >= config.NGroup)
        {
            return choice;
        }

        var size = choice.Length / config.NGroup;
        var groupScores = new double[config.NGroup];
        for (var g = 0; g < config.NGroup; g++)
        {
            groupScores[g] = groupScore(choice[(g * size)..((g + 1) * size)]);
        }

        var kept = TopK(groupScores, config.TopkGroup).ToHashSet();
        var masked = (double[])choice.Clone();
        for (var e = 0; e < masked.Length; e++)
        {
            if (!kept.Contains(e / size))
            {
                masked[e] = double.NegativeInfinity;
            }
        }

        return masked;
    }
}
