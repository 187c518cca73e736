using System.Text;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Schema <c>pattern</c>s as Go's RE2 <c>regexp</c> reads them, run by .NET's linear-time engine: <c>\d</c>, <c>\w</c>,
/// <c>\s</c> are ASCII, <c>$</c> is the end of the text, POSIX classes and <c>(?P&lt;name&gt;)</c> are understood, and
/// what RE2 refuses (look-around, back-references) is refused.
/// </summary>
internal static class GoRegex
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(200);

    private static readonly Dictionary<string, string> PosixClasses = new(StringComparer.Ordinal)
    {
        ["alnum"] = "0-9A-Za-z",
        ["alpha"] = "A-Za-z",
        ["ascii"] = "\\x00-\\x7F",
        ["blank"] = "\\t ",
        ["cntrl"] = "\\x00-\\x1F\\x7F",
        ["digit"] = "0-9",
        ["graph"] = "!-~",
        ["lower"] = "a-z",
        ["print"] = " -~",
        ["punct"] = "!-/:-@\\[-`{-~",
        ["space"] = "\\t\\n\\v\\f\\r ",
        ["upper"] = "A-Z",
        ["word"] = "0-9A-Za-z_",
        ["xdigit"] = "0-9A-Fa-f",
    };

    /// <summary>Compiles a pattern; on failure returns null and the reason in Go's words (<c>error parsing regexp: …</c>).</summary>
    public static Regex? TryCompile(string pattern, out string? error)
    {
        var translated = Translate(pattern, out error);
        if (translated is null)
        {
            return null;
        }

        try
        {
            try
            {
                return new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
            }
            catch (NotSupportedException)
            {
                return new Regex(translated, RegexOptions.CultureInvariant, Timeout);
            }
        }
        catch (ArgumentException ex)
        {
            error = "error parsing regexp: " + ex.Message;
            return null;
        }
    }

    /// <summary>Whether the text matches somewhere, as Go's <c>MatchString</c>; a match that runs out of time counts as one.</summary>
    public static bool IsMatch(Regex regex, string text)
    {
        try
        {
            return regex.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return true;
        }
    }

    private static string? Translate(string pattern, out string? error)
    {
        error = null;
        var multiline = Regex.IsMatch(pattern, @"\(\?[a-zA-Z]*m", RegexOptions.None, Timeout);
        var text = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[++i];
                if (next is >= '1' and <= '9')
                {
                    error = $"error parsing regexp: invalid escape sequence: `\\{next}`";
                    return null;
                }

                if (next == 'Q' && !inClass)
                {
                    var end = pattern.IndexOf("\\E", i + 1, StringComparison.Ordinal);
                    var literal = end < 0 ? pattern[(i + 1)..] : pattern[(i + 1)..end];
                    text.Append(Regex.Escape(literal));
                    i = end < 0 ? pattern.Length : end + 1;
                    continue;
                }

                text.Append((next, inClass) switch
                {
                    ('d', false) => "[0-9]",
                    ('D', false) => "[^0-9]",
                    ('w', false) => "[0-9A-Za-z_]",
                    ('W', false) => "[^0-9A-Za-z_]",
                    ('s', false) => "[\\t\\n\\f\\r ]",
                    ('S', false) => "[^\\t\\n\\f\\r ]",
                    ('z', false) => "\\z",
                    ('d', true) => "0-9",
                    ('w', true) => "0-9A-Za-z_",
                    ('s', true) => "\\t\\n\\f\\r ",
                    _ => "\\" + next,
                });
                continue;
            }

            if (inClass)
            {
                if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    var close = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (close > 0)
                    {
                        var name = pattern[(i + 2)..close];
                        var negated = name.StartsWith('^');
                        if (!negated && PosixClasses.TryGetValue(name, out var members))
                        {
                            text.Append(members);
                            i = close + 1;
                            continue;
                        }

                        error = $"error parsing regexp: invalid character class range: `{pattern[i..(close + 2)]}`";
                        return null;
                    }
                }

                if (c == ']')
                {
                    inClass = false;
                }

                text.Append(c);
                continue;
            }

            switch (c)
            {
                case '[':
                    inClass = true;
                    text.Append(c);
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    {
                        text.Append(pattern[++i]);
                    }

                    if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    {
                        text.Append("\\]");
                        i++;
                    }

                    break;
                case '$' when !multiline:
                    text.Append("\\z");
                    break;
                case '(' when pattern.AsSpan(i).StartsWith("(?P<"):
                    text.Append("(?<");
                    i += 3;
                    break;
                case '(' when pattern.AsSpan(i).StartsWith("(?=") || pattern.AsSpan(i).StartsWith("(?!") ||
                              pattern.AsSpan(i).StartsWith("(?<=") || pattern.AsSpan(i).StartsWith("(?<!"):
                    var end = pattern[i + 2] == '<' ? 4 : 3;
                    error = $"error parsing regexp: invalid or unsupported Perl syntax: `{pattern[i..(i + end)]}`";
                    return null;
                default:
                    text.Append(c);
                    break;
            }
        }

        return text.ToString();
    }
}
