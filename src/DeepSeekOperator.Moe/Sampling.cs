using System.Globalization;

namespace DeepSeekOperator.Moe;

/// <summary>How the next token is chosen from the logits.</summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature; 0 picks the most likely token (greedy).</summary>
    public double Temperature { get; init; }

    /// <summary>Sample among the k most likely tokens only; 0 for no limit.</summary>
    public int TopK { get; init; }

    /// <summary>Sample among the most likely tokens whose probabilities add up to p (nucleus sampling); 1 for no limit.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Seed of the sequence's random generator; null for a random seed.</summary>
    public int? Seed { get; init; }

    /// <summary>The most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (!(Temperature >= 0) || double.IsInfinity(Temperature))
        {
            throw new ArgumentException($"temperature must be a number of at least 0, got {Temperature.ToString(CultureInfo.InvariantCulture)}");
        }

        if (TopK < 0)
        {
            throw new ArgumentException($"top_k must not be negative, got {TopK}");
        }

        if (!(TopP > 0 && TopP <= 1))
        {
            throw new ArgumentException($"top_p must be in (0, 1], got {TopP.ToString(CultureInfo.InvariantCulture)}");
        }

        if (MaxTokens < 1)
        {
            throw new ArgumentException($"max_tokens must be at least 1, got {MaxTokens}");
        }
    }
}

/// <summary>Chooses tokens for one sequence: greedy, or temperature with top-k and top-p, reproducible by seed.</summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;

    /// <summary>Creates a sampler; the options are validated.</summary>
    public Sampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _random = options.Seed is { } seed ? new Random(seed) : new Random();
    }

    /// <summary>The next token for these logits (one row, vocabulary wide).</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("no logits", nameof(logits));
        }

        if (_options.Temperature == 0 || _options.TopK == 1)
        {
            return ArgMax(logits);
        }

        var candidates = new int[logits.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            candidates[i] = i;
        }

        // Most likely first; ties keep the lower id first.
        var values = logits.ToArray();
        Array.Sort(candidates, (a, b) => values[b].CompareTo(values[a]) is var c && c != 0 ? c : a.CompareTo(b));
        var count = _options.TopK > 0 ? Math.Min(_options.TopK, candidates.Length) : candidates.Length;

        var probabilities = new double[count];
        var max = values[candidates[0]];
        double sum = 0;
        for (var i = 0; i < count; i++)
        {
            probabilities[i] = Math.Exp((values[candidates[i]] - max) / _options.Temperature);
            sum += probabilities[i];
        }

        if (_options.TopP < 1)
        {
            double cumulative = 0;
            var kept = 0;
            while (kept < count)
            {
                cumulative += probabilities[kept++] / sum;
                if (cumulative >= _options.TopP)
                {
                    break;
                }
            }

            count = kept;
            sum = probabilities.AsSpan(0, count).ToArray().Sum();
        }

        var target = _random.NextDouble() * sum;
        for (var i = 0; i < count; i++)
        {
            target -= probabilities[i];
            if (target < 0)
            {
                return candidates[i];
            }
        }

        return candidates[count - 1];
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }
}
