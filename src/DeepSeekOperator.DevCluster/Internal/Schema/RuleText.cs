namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>What can be told of a CEL rule from its text alone.</summary>
internal static class RuleText
{
    /// <summary>Whether the rule refers to <c>oldSelf</c> outside string literals, which makes it a transition rule.</summary>
    public static bool UsesOldSelf(string rule)
    {
        for (var i = 0; i < rule.Length; i++)
        {
            var c = rule[i];
            if (c is '"' or '\'')
            {
                var triple = i + 2 < rule.Length && rule[i + 1] == c && rule[i + 2] == c;
                var quote = triple ? new string(c, 3) : c.ToString();
                var end = i + quote.Length;
                while (end < rule.Length && !rule.AsSpan(end).StartsWith(quote, StringComparison.Ordinal))
                {
                    end += rule[end] == '\\' ? 2 : 1;
                }

                i = end + quote.Length - 1;
                continue;
            }

            if (rule.AsSpan(i).StartsWith("oldSelf", StringComparison.Ordinal) &&
                (i == 0 || !IsIdentifierPart(rule[i - 1])) &&
                (i + 7 == rule.Length || !IsIdentifierPart(rule[i + 7])))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
