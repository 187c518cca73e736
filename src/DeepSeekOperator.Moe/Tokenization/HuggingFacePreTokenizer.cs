using Microsoft.ML.Tokenizers;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>
/// The pre-tokenization of a Hugging Face byte-level tokenizer as a Microsoft.ML.Tokenizers <see cref="PreTokenizer"/>:
/// added tokens are cut out first (each becomes a piece the BPE model maps to its id), then every stretch of text
/// between them goes through the <c>Split</c> rules in order, each rule cutting every piece the previous one left.
/// </summary>
/// <remarks>
/// The library's own <see cref="CompositePreTokenizer"/> does not fit: it hands only the text between one pre-tokenizer's
/// matches to the next, where Hugging Face's <c>Sequence</c> hands every piece on.
/// </remarks>
internal sealed class HuggingFacePreTokenizer(AddedTokenMatcher addedTokens, IReadOnlyList<SplitRule> rules) : PreTokenizer
{
    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<(int Offset, int Length)>();
        foreach (var (start, end, isAddedToken) in addedTokens.Segment(text))
        {
            if (isAddedToken)
            {
                result.Add((start, end - start));
                continue;
            }

            List<(int Start, int End)> pieces = [(start, end)];
            foreach (var rule in rules)
            {
                pieces = rule.Apply(text, pieces);
            }

            result.AddRange(pieces.Select(p => (p.Start, p.End - p.Start)));
        }

        return result;
    }

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());
}
