namespace DeepSeekOperator.Moe;

/// <summary>A prompt to continue.</summary>
/// <param name="Prompt">The prompt's token ids.</param>
/// <param name="Options">How to sample.</param>
public sealed record GenerationRequest(IReadOnlyList<int> Prompt, SamplingOptions Options);

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason
{
    /// <summary>It produced an end-of-sequence token.</summary>
    Stop,

    /// <summary>It reached its token limit or the model's context length.</summary>
    Length,
}

/// <summary>A finished sequence.</summary>
/// <param name="Tokens">The generated token ids (the stop token excluded).</param>
/// <param name="Reason">Why it stopped.</param>
public sealed record GenerationResult(IReadOnlyList<int> Tokens, FinishReason Reason);

/// <summary>
/// Generates for several sequences at once: one forward pass prefills every prompt, then each step decodes
/// one token for every sequence still running, each at its own position.
/// </summary>
/// <param name="model">The model.</param>
/// <param name="stopTokens">End-of-sequence ids (the tokenizer's).</param>
public sealed class BatchGenerator(MoeModel model, IReadOnlyCollection<int> stopTokens)
{
    /// <summary>
    /// Runs every request to completion. <paramref name="onToken"/> sees (request index, token) as tokens
    /// are chosen, for streaming.
    /// </summary>
    /// <exception cref="ArgumentException">A prompt is empty or its options are out of range.</exception>
    public async Task<IReadOnlyList<GenerationResult>> GenerateAsync(IReadOnlyList<GenerationRequest> requests, Action<int, int>? onToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var sequences = requests.Select(r => new SequenceGeneration(r.Options, stopTokens, model.Config.MaxPositionEmbeddings)).ToArray();
        var caches = new KvCache[requests.Count];
        try
        {
            for (var i = 0; i < requests.Count; i++)
            {
                if (requests[i].Prompt.Count == 0)
                {
                    throw new ArgumentException($"request {i} has an empty prompt", nameof(requests));
                }

                if (requests[i].Prompt.Count >= model.Config.MaxPositionEmbeddings)
                {
                    throw new ArgumentException($"request {i}: the prompt has {requests[i].Prompt.Count} tokens, the model's context is {model.Config.MaxPositionEmbeddings}", nameof(requests));
                }

                caches[i] = model.CreateCache(requests[i].Prompt.Count + Math.Min(requests[i].Options.MaxTokens, 1024));
            }

            var inputs = requests.Select((r, i) => (Index: i, Tokens: r.Prompt)).ToList();
            while (inputs.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var logits = await model.ForwardAsync([.. inputs.Select(input => new SequenceInput(caches[input.Index], input.Tokens))], LogitsFor.LastToken, cancellationToken).ConfigureAwait(false);
                using var cpu = logits.cpu();
                var rows = cpu.data<float>().ToArray();
                var vocab = model.Config.VocabSize;
                var next = new List<(int, IReadOnlyList<int>)>();
                for (var row = 0; row < inputs.Count; row++)
                {
                    var index = inputs[row].Index;
                    if (sequences[index].Next(rows.AsSpan(row * vocab, vocab), caches[index].Length) is not { } token)
                    {
                        continue;
                    }

                    onToken?.Invoke(index, token);
                    if (sequences[index].Finished is null)
                    {
                        next.Add((index, [token]));
                    }
                }

                inputs = next;
            }

            return [.. sequences.Select(sequence => sequence.Result())];
        }
        finally
        {
            foreach (var cache in caches)
            {
                cache?.Dispose();
            }
        }
    }
}
