namespace DeepSeekOperator.Moe;

/// <summary>
/// One sequence's generation, token by token: chooses each token with the sequence's own <see cref="Sampler"/> and
/// applies the rules every generator shares. A stop token ends the sequence and is not kept; reaching the token
/// limit, or leaving no room in the model's context, ends it with <see cref="FinishReason.Length"/>.
/// </summary>
public sealed class SequenceGeneration
{
    private readonly List<int> _tokens = [];
    private readonly Sampler _sampler;
    private readonly IReadOnlyCollection<int> _stopTokens;
    private readonly int _contextLength;

    /// <summary>Starts a sequence sampled with <paramref name="options"/> (validated).</summary>
    /// <param name="options">How to sample, and the most tokens to generate.</param>
    /// <param name="stopTokens">End-of-sequence ids.</param>
    /// <param name="contextLength">The model's <c>max_position_embeddings</c>.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public SequenceGeneration(SamplingOptions options, IReadOnlyCollection<int> stopTokens, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(stopTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        _sampler = new Sampler(options);
        _stopTokens = stopTokens;
        MaxTokens = options.MaxTokens;
        _contextLength = contextLength;
    }

    /// <summary>The most tokens the sequence generates.</summary>
    public int MaxTokens { get; }

    /// <summary>The tokens generated so far (stop token excluded).</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>Why the sequence ended; null while it runs.</summary>
    public FinishReason? Finished { get; private set; }

    /// <summary>
    /// Chooses the next token from the logits of the sequence's last position and applies the stop and length rules.
    /// </summary>
    /// <param name="logits">One row of logits, vocabulary wide.</param>
    /// <param name="cachedLength">The tokens the sequence's cache holds after the forward pass that gave the logits.</param>
    /// <returns>The new token, to stream and to feed back; null when it was a stop token.</returns>
    /// <exception cref="InvalidOperationException">The sequence has already finished.</exception>
    public int? Next(ReadOnlySpan<float> logits, int cachedLength)
    {
        if (Finished is not null)
        {
            throw new InvalidOperationException($"the sequence has finished ({Finished})");
        }

        var token = _sampler.Next(logits);
        if (_stopTokens.Contains(token))
        {
            Finished = FinishReason.Stop;
            return null;
        }

        _tokens.Add(token);
        if (_tokens.Count >= MaxTokens || cachedLength + 1 >= _contextLength)
        {
            Finished = FinishReason.Length;
        }

        return token;
    }

    /// <summary>The sequence as it stands: its tokens, and why it ended (<see cref="FinishReason.Length"/> while it runs).</summary>
    public GenerationResult Result() => new([.. _tokens], Finished ?? FinishReason.Length);
}
