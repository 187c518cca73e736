namespace DeepSeekOperator.Moe;

/// <summary>
/// Which experts each token of a batch goes to, and with what weight: one entry per (token, expert) pair,
/// as the gate chose them. This is what crosses the expert boundary, so it is plain arrays, not tensors.
/// </summary>
public sealed record ExpertAssignments
{
    /// <summary>Creates the assignments of a batch of <paramref name="tokenCount"/> tokens.</summary>
    /// <exception cref="ArgumentException">The arrays differ in length or a token index is outside the batch.</exception>
    public ExpertAssignments(int tokenCount, int[] tokens, int[] experts, float[] weights)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokenCount);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(weights);
        if (tokens.Length != experts.Length || tokens.Length != weights.Length)
        {
            throw new ArgumentException($"tokens ({tokens.Length}), experts ({experts.Length}) and weights ({weights.Length}) must have one entry per assignment");
        }

        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)tokenCount)
            {
                throw new ArgumentException($"assignment {i} names token {tokens[i]}, outside the batch of {tokenCount} tokens", nameof(tokens));
            }

            if (experts[i] < 0)
            {
                throw new ArgumentException($"assignment {i} names expert {experts[i]}", nameof(experts));
            }
        }

        TokenCount = tokenCount;
        Tokens = tokens;
        Experts = experts;
        Weights = weights;
    }

    /// <summary>How many tokens the batch has (rows of the hidden states).</summary>
    public int TokenCount { get; }

    /// <summary>The token (row) of each assignment.</summary>
    public int[] Tokens { get; }

    /// <summary>The expert of each assignment.</summary>
    public int[] Experts { get; }

    /// <summary>The gate weight of each assignment.</summary>
    public float[] Weights { get; }

    /// <summary>The number of assignments.</summary>
    public int Count => Tokens.Length;

    /// <summary>
    /// The assignments ordered by expert (stable, so tokens stay in order within an expert), with the
    /// start of each expert's run: what a grouped expert computation needs. Counting sort, O(n + largest id):
    /// callers check the ids against the experts they hold first.
    /// </summary>
    public (int[] Tokens, float[] Weights, int[] Experts, int[] Starts) GroupByExpert()
    {
        var maxExpert = Experts.Length == 0 ? -1 : Experts.Max();
        var counts = new int[maxExpert + 2];
        foreach (var expert in Experts)
        {
            counts[expert + 1]++;
        }

        for (var e = 1; e < counts.Length; e++)
        {
            counts[e] += counts[e - 1];
        }

        var next = counts[..^1];
        var tokens = new int[Count];
        var weights = new float[Count];
        for (var i = 0; i < Count; i++)
        {
            var slot = next[Experts[i]]++;
            tokens[slot] = Tokens[i];
            weights[slot] = Weights[i];
        }

        var experts = new List<int>();
        var starts = new List<int>();
        for (var e = 0; e <= maxExpert; e++)
        {
            if (counts[e + 1] > counts[e])
            {
                experts.Add(e);
                starts.Add(counts[e]);
            }
        }

        starts.Add(Count);
        return (tokens, weights, [.. experts], [.. starts]);
    }
}
