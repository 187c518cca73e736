namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>What a Hugging Face <c>Split</c> pre-tokenizer does with the text its pattern matches.</summary>
internal enum SplitBehavior
{
    /// <summary>Each match is a piece of its own.</summary>
    Isolated,

    /// <summary>Matches are dropped.</summary>
    Removed,

    /// <summary>A match joins the piece before it.</summary>
    MergedWithPrevious,

    /// <summary>A match joins the piece after it.</summary>
    MergedWithNext,

    /// <summary>Adjacent matches form one piece.</summary>
    Contiguous,
}

/// <summary>One Hugging Face <c>Split</c> (or <c>Digits</c>) pre-tokenizer: cuts each piece of text further.</summary>
internal sealed class SplitRule(CodePointRegex pattern, SplitBehavior behavior, bool invert)
{
    /// <summary>Cuts each [start, end) piece of <paramref name="text"/>, keeping the non-empty results in order.</summary>
    public List<(int Start, int End)> Apply(string text, List<(int Start, int End)> pieces)
    {
        var result = new List<(int Start, int End)>(pieces.Count * 2);
        var parts = new List<(int Start, int End, bool IsMatch)>();
        foreach (var (start, end) in pieces)
        {
            parts.Clear();
            var previous = 0;
            foreach (var (matchStart, matchEnd) in pattern.Matches(text.AsSpan(start, end - start)))
            {
                if (matchStart != previous)
                {
                    parts.Add((previous, matchStart, invert));
                }

                parts.Add((matchStart, matchEnd, !invert));
                previous = matchEnd;
            }

            if (previous != end - start)
            {
                parts.Add((previous, end - start, invert));
            }

            foreach (var (partStart, partEnd) in Combine(parts, behavior))
            {
                if (partEnd > partStart)
                {
                    result.Add((start + partStart, start + partEnd));
                }
            }
        }

        return result;
    }

    /// <summary>Hugging Face's <c>NormalizedString::split</c>: the pieces the matched and unmatched parts become.</summary>
    private static List<(int Start, int End)> Combine(List<(int Start, int End, bool IsMatch)> parts, SplitBehavior behavior)
    {
        var pieces = new List<(int Start, int End)>(parts.Count);
        var previousMatch = false;
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                pieces.AddRange(parts.Select(p => (p.Start, p.End)));
                break;
            case SplitBehavior.Removed:
                pieces.AddRange(parts.Where(p => !p.IsMatch).Select(p => (p.Start, p.End)));
                break;
            case SplitBehavior.Contiguous:
                foreach (var part in parts)
                {
                    if (part.IsMatch == previousMatch && pieces.Count > 0)
                    {
                        pieces[^1] = (pieces[^1].Start, part.End);
                    }
                    else
                    {
                        pieces.Add((part.Start, part.End));
                    }

                    previousMatch = part.IsMatch;
                }

                break;
            case SplitBehavior.MergedWithPrevious:
                foreach (var part in parts)
                {
                    if (part.IsMatch && !previousMatch && pieces.Count > 0)
                    {
                        pieces[^1] = (pieces[^1].Start, part.End);
                    }
                    else
                    {
                        pieces.Add((part.Start, part.End));
                    }

                    previousMatch = part.IsMatch;
                }

                break;
            case SplitBehavior.MergedWithNext:
                for (var i = parts.Count - 1; i >= 0; i--)
                {
                    var part = parts[i];
                    if (part.IsMatch && !previousMatch && pieces.Count > 0)
                    {
                        pieces[^1] = (part.Start, pieces[^1].End);
                    }
                    else
                    {
                        pieces.Add((part.Start, part.End));
                    }

                    previousMatch = part.IsMatch;
                }

                pieces.Reverse();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(behavior), behavior, "unknown split behavior");
        }

        return pieces;
    }
}
