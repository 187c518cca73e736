using System.Buffers;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>
/// Finds the added tokens of a Hugging Face tokenizer in text, leftmost first and longest among those starting at
/// the same place, as Hugging Face's AddedVocabulary does: tokens with <c>normalized: false</c> are found in the text
/// first, then those with <c>normalized: true</c> in what is left between them.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Stage? _raw;
    private readonly Stage? _normalized;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        var all = tokens.ToList();
        _raw = Stage.Create(all.Where(t => !t.Normalized).Select(t => t.Content));
        _normalized = Stage.Create(all.Where(t => t.Normalized).Select(t => t.Content));
    }

    /// <summary>Cuts <paramref name="text"/> into added tokens and the text between them, in order; no part is empty.</summary>
    public List<(int Start, int End, bool IsAddedToken)> Segment(string text)
    {
        var first = new List<(int Start, int End, bool IsAddedToken)>();
        Split(_raw, text, 0, text.Length, first);
        if (_normalized is null)
        {
            return first;
        }

        var second = new List<(int Start, int End, bool IsAddedToken)>(first.Count);
        foreach (var part in first)
        {
            if (part.IsAddedToken)
            {
                second.Add(part);
            }
            else
            {
                Split(_normalized, text, part.Start, part.End, second);
            }
        }

        return second;
    }

    private static void Split(Stage? stage, string text, int start, int end, List<(int Start, int End, bool IsAddedToken)> parts)
    {
        var position = start;
        while (stage is not null && position < end)
        {
            var found = stage.Find(text.AsSpan(position, end - position));
            if (found.Index < 0)
            {
                break;
            }

            if (found.Index > 0)
            {
                parts.Add((position, position + found.Index, false));
            }

            parts.Add((position + found.Index, position + found.Index + found.Length, true));
            position += found.Index + found.Length;
        }

        if (position < end)
        {
            parts.Add((position, end, false));
        }
    }

    private sealed class Stage
    {
        private readonly SearchValues<string> _any;
        private readonly Dictionary<char, string[]> _byFirstChar;

        private Stage(string[] contents)
        {
            _any = SearchValues.Create(contents, StringComparison.Ordinal);
            _byFirstChar = contents.GroupBy(c => c[0])
                .ToDictionary(g => g.Key, g => g.OrderByDescending(c => c.Length).ToArray());
        }

        public static Stage? Create(IEnumerable<string> contents)
        {
            var distinct = contents.Distinct(StringComparer.Ordinal).ToArray();
            return distinct.Length == 0 ? null : new Stage(distinct);
        }

        /// <summary>The leftmost occurrence of any token in <paramref name="text"/>, the longest token where several start there.</summary>
        public (int Index, int Length) Find(ReadOnlySpan<char> text)
        {
            var index = text.IndexOfAny(_any);
            if (index < 0)
            {
                return (-1, 0);
            }

            foreach (var candidate in _byFirstChar[text[index]])
            {
                if (text[index..].StartsWith(candidate, StringComparison.Ordinal))
                {
                    return (index, candidate.Length);
                }
            }

            throw new InvalidOperationException("an added token was found but none matches where it was found");
        }
    }
}
