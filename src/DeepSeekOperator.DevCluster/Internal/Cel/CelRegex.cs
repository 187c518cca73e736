using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// The RE2 patterns of CEL's <c>matches</c>, <c>find</c> and <c>findAll</c>, translated by <see cref="GoRegex"/>, compiled
/// once each, run with a time limit, and refused with Go's message where .NET cannot parse them either.
/// </summary>
internal static class CelRegex
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    private static readonly ConcurrentDictionary<string, (Regex? Regex, string? Error)> Cache = new(StringComparer.Ordinal);

    /// <summary>The compiled pattern, or null with Go's <c>error parsing regexp: …</c> message.</summary>
    public static Regex? Get(string pattern, out string? error)
    {
        var (regex, message) = Cache.GetOrAdd(pattern, Compile);
        error = message;
        return regex;
    }

    private static (Regex?, string?) Compile(string pattern)
    {
        var translated = GoRegex.Translate(pattern, out var error);
        if (translated is null)
        {
            return (null, error);
        }

        try
        {
            return (new Regex(translated, RegexOptions.CultureInvariant, Timeout), null);
        }
        catch (ArgumentException e)
        {
            return (null, "error parsing regexp: " + GoMessage(e.Message, pattern));
        }
    }

    private static string GoMessage(string dotnetMessage, string pattern)
    {
        if (dotnetMessage.Contains("Not enough )", StringComparison.Ordinal))
        {
            return $"missing closing ): `{pattern}`";
        }

        if (dotnetMessage.Contains("Too many )", StringComparison.Ordinal))
        {
            return $"unexpected ): `{pattern}`";
        }

        if (dotnetMessage.Contains("Unterminated [] set", StringComparison.Ordinal))
        {
            return $"missing closing ]: `{pattern}`";
        }

        if (dotnetMessage.Contains("Quantifier", StringComparison.Ordinal) || dotnetMessage.Contains("quantifier", StringComparison.Ordinal))
        {
            return $"missing argument to repetition operator: `{pattern}`";
        }

        return $"invalid regular expression `{pattern}`";
    }
}
