namespace DeepSeekOperator.Moe.Tests.Reference;

/// <summary>Hand-worked examples that pin down the reference's gate, rotary embedding, norm and expert.</summary>
public class ReferenceSelfTests
{
    private const double Tolerance = 1e-12;

    private static readonly double[] OneFeature = [1.0];

    // ---- Gate ----------------------------------------------------------------------------------------------

    [Fact]
    public void NoauxTc_NegativeBiasedScores_PicksFromKeptGroupsByBiasedScoreAndWeighsByUnbiasedScore()
    {
        // 8 experts in 4 groups of 2; keep 2 groups; pick 2. With one hidden feature equal to 1, the gate row of
        // expert e is its logit, so the unbiased scores are exactly s.
        double[] s = [0.5, 0.4, 0.6, 0.9, 0.2, 0.3, 0.1, 0.2];
        double[] biased = [-0.30, -0.50, -0.10, -0.40, -0.20, -0.25, -0.60, -0.70];
        var bias = biased.Select((b, e) => b - s[e]).ToArray();
        var config = Config("noaux_tc", "sigmoid", experts: 8, groups: 4, keepGroups: 2, perToken: 2) with { RoutedScalingFactor = 2.5 };

        var routing = RefGate.Route(config, OneFeature, Logits(s), bias);

        // Group scores (sum of the top 2 biased): G0 -0.80, G1 -0.50, G2 -0.45, G3 -1.30 → keep G2 and G1.
        // Candidates e2 -0.10, e3 -0.40, e4 -0.20, e5 -0.25 → e2 then e4. A 0.0 fill of the dropped groups would
        // instead pick e0 and e1 (0.0 beats every negative score); choosing by unbiased score would pick e3.
        Assert.Equal([2, 4], routing.Experts);
        // Weights: unbiased 0.6 and 0.2, divided by their sum 0.8, times 2.5.
        AssertClose([1.875, 0.625], routing.Weights);
    }

    [Fact]
    public void NoauxTc_WithoutNormalisation_WeightsAreUnbiasedScoresTimesScalingFactor()
    {
        double[] s = [0.5, 0.4, 0.6, 0.9, 0.2, 0.3, 0.1, 0.2];
        double[] biased = [-0.30, -0.50, -0.10, -0.40, -0.20, -0.25, -0.60, -0.70];
        var bias = biased.Select((b, e) => b - s[e]).ToArray();
        var config = Config("noaux_tc", "sigmoid", experts: 8, groups: 4, keepGroups: 2, perToken: 2) with
        {
            RoutedScalingFactor = 2.5,
            NormTopkProb = false,
        };

        var routing = RefGate.Route(config, OneFeature, Logits(s), bias);

        Assert.Equal([2, 4], routing.Experts);
        AssertClose([0.6 * 2.5, 0.2 * 2.5], routing.Weights);
    }

    [Fact]
    public void NoauxTc_GroupScore_IsSumOfTopTwoBiasedScores()
    {
        // 2 groups of 4; keep 1. G0 biased [0.9, -0.5, -0.5, -0.5]: top-2 sum 0.4 (max 0.9, total -0.6).
        // G1 biased [0.3, 0.2, -1.0, -1.0]: top-2 sum 0.5 (max 0.3, total -1.5). Only the top-2 sum prefers G1.
        double[] s = [0.95, 0.25, 0.25, 0.25, 0.5, 0.4, 0.2, 0.2];
        double[] biased = [0.9, -0.5, -0.5, -0.5, 0.3, 0.2, -1.0, -1.0];
        var bias = biased.Select((b, e) => b - s[e]).ToArray();
        var config = Config("noaux_tc", "sigmoid", experts: 8, groups: 2, keepGroups: 1, perToken: 2);

        var routing = RefGate.Route(config, OneFeature, Logits(s), bias);

        Assert.Equal([4, 5], routing.Experts);
        AssertClose([0.5 / 0.9, 0.4 / 0.9], routing.Weights);
    }

    [Fact]
    public void NoauxTc_TiedGroupsAndExperts_LowerIndexWins()
    {
        // Logits [-2, -2 | 1, 0 | 1, 0 | 1, 0]: groups 1, 2 and 3 tie exactly; groups 1 and 2 are kept.
        // Experts 2 and 4 tie exactly; both are picked, expert 2 first. Higher-index-first would give 6 and 4.
        double[] logits = [-2, -2, 1, 0, 1, 0, 1, 0];
        var config = Config("noaux_tc", "sigmoid", experts: 8, groups: 4, keepGroups: 2, perToken: 2) with { RoutedScalingFactor = 2.5 };

        var routing = RefGate.Route(config, OneFeature, logits, bias: new double[8]);

        Assert.Equal([2, 4], routing.Experts);
        AssertClose([1.25, 1.25], routing.Weights);
    }

    [Fact]
    public void NoauxTc_TieWithinTheSelection_LowerExpertIndexFirst()
    {
        // One group: the tie between experts 1 and 3 (both logit 2) is broken by index, behind the best expert 2.
        double[] logits = [0, 2, 3, 2];
        var config = Config("noaux_tc", "sigmoid", experts: 4, groups: 1, keepGroups: 1, perToken: 3) with { NormTopkProb = false };

        var routing = RefGate.Route(config, OneFeature, logits, bias: null);

        Assert.Equal([2, 1, 3], routing.Experts);
        AssertClose([RefMath.Sigmoid(3), RefMath.Sigmoid(2), RefMath.Sigmoid(2)], routing.Weights);
    }

    [Fact]
    public void Greedy_Softmax_PicksTopScoresAndAppliesScalingOnly()
    {
        // Logits ln(1..4): softmax = [0.1, 0.2, 0.3, 0.4].
        double[] logits = [Math.Log(1), Math.Log(2), Math.Log(3), Math.Log(4)];
        var config = Config("greedy", "softmax", experts: 4, groups: 1, keepGroups: 1, perToken: 2) with { NormTopkProb = false };

        var routing = RefGate.Route(config, OneFeature, logits, bias: null);

        Assert.Equal([3, 2], routing.Experts);
        AssertClose([0.4, 0.3], routing.Weights);
    }

    [Fact]
    public void Greedy_Normalised_DividesBySumThenScales()
    {
        double[] logits = [Math.Log(1), Math.Log(2), Math.Log(3), Math.Log(4)];
        var config = Config("greedy", "softmax", experts: 4, groups: 1, keepGroups: 1, perToken: 2) with { RoutedScalingFactor = 2 };

        var routing = RefGate.Route(config, OneFeature, logits, bias: null);

        Assert.Equal([3, 2], routing.Experts);
        AssertClose([0.4 / 0.7 * 2, 0.3 / 0.7 * 2], routing.Weights);
    }

    [Fact]
    public void GroupLimitedGreedy_KeepsGroupsByMaximumScore()
    {
        // Softmax of ln([1, 8, 7, 4, 6, 1, 2, 1]) = those / 30. Group maxima 8, 7, 6, 2: only group 0 is kept, so the
        // second pick is expert 0 (1/30) although plain greedy would take expert 2 (7/30).
        double[] weights = [1, 8, 7, 4, 6, 1, 2, 1];
        var logits = weights.Select(w => Math.Log(w)).ToArray();
        var config = Config("group_limited_greedy", "softmax", experts: 8, groups: 4, keepGroups: 1, perToken: 2) with { NormTopkProb = false };

        var routing = RefGate.Route(config, OneFeature, logits, bias: null);

        Assert.Equal([1, 0], routing.Experts);
        AssertClose([8.0 / 30, 1.0 / 30], routing.Weights);
        Assert.Equal([1, 2], RefGate.Route(config with { TopkMethod = "greedy" }, OneFeature, logits, bias: null).Experts);
    }

    [Fact]
    public void Route_GateRowsAreExperts_ProjectsHiddenOntoEachRow()
    {
        // Two features: expert e's logit is row e · x. x = [1, -1]; rows give logits [1, -2, 0.5, 3].
        double[] hidden = [1, -1];
        double[] gate = [2, 1, -1, 1, 0.5, 0, 4, 1];
        var config = Config("greedy", "sigmoid", experts: 4, groups: 1, keepGroups: 1, perToken: 2) with { NormTopkProb = false };

        var routing = RefGate.Route(config, hidden, gate, bias: null);

        Assert.Equal([3, 0], routing.Experts);
        AssertClose([RefMath.Sigmoid(3), RefMath.Sigmoid(1)], routing.Weights);
    }

    [Fact]
    public void Route_BiasWithGreedy_IsRejected()
    {
        var config = Config("greedy", "softmax", experts: 4, groups: 1, keepGroups: 1, perToken: 2);

        var error = Assert.Throws<ArgumentException>(() => RefGate.Route(config, OneFeature, new double[4], new double[4]));

        Assert.Contains("e_score_correction_bias", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Route_GateOfWrongSize_NamesBothSizes()
    {
        var config = Config("greedy", "softmax", experts: 4, groups: 1, keepGroups: 1, perToken: 2);

        var error = Assert.Throws<ArgumentException>(() => RefGate.Route(config, [1.0, 2.0], new double[4], bias: null));

        Assert.Contains("[4, 2]", error.Message, StringComparison.Ordinal);
    }

    // ---- Rotary --------------------------------------------------------------------------------------------

    [Fact]
    public void Rotate_AdjacentPairs_TurnByPositionTimesTheirFrequency()
    {
        // dim 4, base 10000: pair 0 (x0, x1) turns at 1 radian per position, pair 1 (x2, x3) at 0.01.
        var frequencies = RefRotary.InverseFrequencies(4, 10000, scaling: null);
        AssertClose([1, 0.01], frequencies);

        var rotated = RefRotary.Rotate([1, 2, 3, 4], 3, frequencies);

        AssertClose(
            [
                (1 * Math.Cos(3)) - (2 * Math.Sin(3)), (2 * Math.Cos(3)) + (1 * Math.Sin(3)),
                (3 * Math.Cos(0.03)) - (4 * Math.Sin(0.03)), (4 * Math.Cos(0.03)) + (3 * Math.Sin(0.03)),
            ],
            rotated);
    }

    [Fact]
    public void Rotate_PlainRope_DotProductDependsOnlyOnPositionDifference()
    {
        var random = new Random(7);
        var q = Enumerable.Range(0, 16).Select(_ => random.NextDouble() - 0.5).ToArray();
        var k = Enumerable.Range(0, 16).Select(_ => random.NextDouble() - 0.5).ToArray();
        var frequencies = RefRotary.InverseFrequencies(16, 10000, scaling: null);
        double Score(int p, int r) => RefMath.Dot(RefRotary.Rotate(q, p, frequencies), RefRotary.Rotate(k, r, frequencies));

        foreach (var (p, r) in new[] { (5, 2), (9, 9), (3, 11) })
        {
            var expected = Score(p, r);
            foreach (var shift in new[] { 1, 7, 40, 1000 })
            {
                Assert.Equal(expected, Score(p + shift, r + shift), 1e-10);
            }
        }

        // The rotation does something: a different offset gives a different score.
        Assert.True(Math.Abs(Score(5, 2) - Score(5, 5)) > 1e-3, "rotation did not change the score");
    }

    [Fact]
    public void Yarn_FactorOne_EqualsPlainRope()
    {
        var yarn = new RefRopeScaling { Factor = 1, OriginalMaxPositionEmbeddings = 32, Mscale = 1, MscaleAllDim = 1 };
        var plainConfig = RefConfig.Default with { QkRopeHeadDim = 16, QkNopeHeadDim = 16 };
        var yarnConfig = plainConfig with { RopeScaling = yarn };

        AssertClose(RefRotary.InverseFrequencies(plainConfig), RefRotary.InverseFrequencies(yarnConfig));
        Assert.Equal(1.0, RefRotary.CosSinScale(yarn));
        Assert.Equal(RefRotary.SoftmaxScale(plainConfig), RefRotary.SoftmaxScale(yarnConfig));
    }

    [Fact]
    public void Yarn_Dim8Base10000Factor4OriginalMax16_FirstPairExtrapolatedRestInterpolated()
    {
        // Correction dims: beta_fast 32 → 8·ln(16/(32·2π))/(2·ln 10000) = -1.10 → floor -2 → clamped 0;
        // beta_slow 1 → 8·ln(16/2π)/(2·ln 10000) = 0.41 → ceil 1. Ramp over 4 pairs: clamp((i-0)/1) = [0, 1, 1, 1].
        // Base frequencies [1, 0.1, 0.01, 0.001]; ramp 0 keeps them, ramp 1 divides by the factor 4.
        var yarn = new RefRopeScaling { Factor = 4, OriginalMaxPositionEmbeddings = 16 };

        Assert.Equal((0, 1), RefRotary.CorrectionRange(32, 1, 8, 10000, 16));
        AssertClose([1, 0.025, 0.0025, 0.00025], RefRotary.InverseFrequencies(8, 10000, yarn));
    }

    [Fact]
    public void Yarn_Dim8Base10000Factor4OriginalMax4096_MiddlePairBlendsHalfAndHalf()
    {
        // Correction dims: beta_fast 32 → 8·ln(4096/(64π))/(2·ln 10000) = 1.31 → floor 1; beta_slow 1 → 2.81 → ceil 3.
        // Ramp clamp((i-1)/2) = [0, 0, 0.5, 1]: pair 2 is 0.5·0.01 + 0.5·0.01/4 = 0.00625.
        var yarn = new RefRopeScaling { Factor = 4, OriginalMaxPositionEmbeddings = 4096 };

        Assert.Equal((1, 3), RefRotary.CorrectionRange(32, 1, 8, 10000, 4096));
        AssertClose([1, 0.1, 0.00625, 0.00025], RefRotary.InverseFrequencies(8, 10000, yarn));
    }

    [Fact]
    public void Yarn_Mscale_ScalesCosSinAndSoftmax()
    {
        // cos/sin: mscale(4, 1) / mscale(4, 0) = (0.1·ln 4 + 1) / 1.
        Assert.Equal((0.1 * Math.Log(4)) + 1, RefRotary.CosSinScale(new RefRopeScaling { Factor = 4, Mscale = 1, MscaleAllDim = 0 }), Tolerance);
        // DeepSeek-V3: mscale = mscale_all_dim = 1 → cos/sin unscaled; softmax 192^-0.5 · (0.1·ln 40 + 1)².
        var v3 = RefConfig.Default with { RopeScaling = new RefRopeScaling { Factor = 40, Mscale = 1, MscaleAllDim = 1 } };
        Assert.Equal(1.0, RefRotary.CosSinScale(v3.RopeScaling));
        var mscale = (0.1 * Math.Log(40)) + 1;
        Assert.Equal(mscale * mscale / Math.Sqrt(192), RefRotary.SoftmaxScale(v3), Tolerance);
        // Without mscale_all_dim the softmax scale stays qk_head_dim^-0.5.
        Assert.Equal(1 / Math.Sqrt(192), RefRotary.SoftmaxScale(v3 with { RopeScaling = v3.RopeScaling! with { MscaleAllDim = 0 } }), Tolerance);
    }

    [Fact]
    public void Rotate_WithScale_MultipliesEveryComponent()
    {
        var rotated = RefRotary.Rotate([1, 0], 0, [1.0], scale: 1.5);

        AssertClose([1.5, 0], rotated);
    }

    // ---- Norm, expert, softmax -----------------------------------------------------------------------------

    [Fact]
    public void RmsNorm_HandExample_DividesByRootMeanSquareAndScales()
    {
        // mean of squares of [2, -2, 2, -2] is 4 → divide by 2 → [1, -1, 1, -1] · w.
        AssertClose([1, -2, 0.5, 1], RefMath.RmsNorm([2, -2, 2, -2], [1, 2, 0.5, -1], eps: 0));
        // eps is added inside the root: mean square 1, eps 3 → divide by 2.
        AssertClose([0.5, 0.5, 0.5, 0.5], RefMath.RmsNorm([1, 1, 1, 1], [1, 1, 1, 1], eps: 3));
    }

    [Fact]
    public void Expert_HandExample_IsDownOfSiluGateTimesUp()
    {
        // x = [1, 2]; gate rows [1, 0], [0, 1] → g = [1, 2]; up rows [1, 1], [0, -1] → u = [3, -2].
        // silu(1) = 1/(1+e^-1) = 0.7310585786300049, silu(2) = 2/(1+e^-2) = 1.7615941559557646.
        // a = [3·0.73105857863, -2·1.76159415596] = [2.1931757358900147, -3.5231883119115293].
        // down rows [1, 0], [1, 1] → [2.1931757358900147, -1.3300125760215146].
        var y = RefExpert.Forward([1, 2], gate: [1, 0, 0, 1], up: [1, 1, 0, -1], down: [1, 0, 1, 1], intermediate: 2);

        AssertClose([2.1931757358900147, -1.3300125760215146], y);
    }

    [Fact]
    public void Expert_WrongDownShape_NamesTheWeight()
    {
        var error = Assert.Throws<ArgumentException>(() => RefExpert.Forward([1, 2], [1, 0, 0, 1], [1, 1, 0, -1], [1, 0, 1], intermediate: 2));

        Assert.Contains("down", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Softmax_HandExample_NegativeInfinityGetsZero()
    {
        AssertClose([0.25, 0.75, 0], RefMath.Softmax([0, Math.Log(3), double.NegativeInfinity]));
    }

    [Fact]
    public void Linear_RowMajorWeight_RowsAreOutputs()
    {
        // W = [[1, 2, 3], [4, 5, 6]], x = [1, 0, -1] → [-2, -2].
        AssertClose([-2, -2], RefMath.Linear([1, 0, -1], [1, 2, 3, 4, 5, 6]));
    }

    private static RefConfig Config(string method, string scoring, int experts, int groups, int keepGroups, int perToken) =>
        RefConfig.Default with
        {
            TopkMethod = method,
            ScoringFunc = scoring,
            NRoutedExperts = experts,
            NGroup = groups,
            TopkGroup = keepGroups,
            NumExpertsPerTok = perToken,
            RoutedScalingFactor = 1,
            NormTopkProb = true,
        };

    /// <summary>Gate rows for one hidden feature of value 1 that give exactly the sigmoid scores <paramref name="scores"/>.</summary>
    private static double[] Logits(double[] scores) => [.. scores.Select(p => Math.Log(p / (1 - p)))];

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }
}
