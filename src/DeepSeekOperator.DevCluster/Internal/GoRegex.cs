using System.Text;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>
/// Go's RE2 <c>regexp</c> syntax (used by schema <c>pattern</c>s and CEL's <c>matches</c>/<c>find</c>) on .NET regular
/// expressions: what RE2 refuses (back-references, look-around, atomic groups, possessive quantifiers, conditionals) is
/// refused with Go's message, and what means something else in .NET is translated (<c>$</c> is the end of the text,
/// <c>\d</c>, <c>\w</c>, <c>\s</c> are ASCII, <c>\pL</c>, <c>(?P&lt;name&gt;</c>, <c>\z</c>, POSIX classes, <c>\Q…\E</c>).
/// Schema patterns run on the linear-time engine.
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

    /// <summary>
    /// Compiles a schema pattern; on failure returns null and the reason (<c>error parsing regexp: …</c>, in Go's words
    /// for what RE2 refuses, in .NET's for what .NET cannot parse).
    /// </summary>
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

    /// <summary>
    /// The pattern in .NET's syntax with RE2's meaning; null, with Go's <c>error parsing regexp: …</c> message, for what
    /// RE2 refuses.
    /// </summary>
    public static string? Translate(string p, out string? error)
    {
        error = null;
        var result = new StringBuilder(p.Length + 8);
        var inClass = false;
        for (var i = 0; i < p.Length; i++)
        {
            var c = p[i];
            if (c == '\\')
            {
                if (i + 1 >= p.Length)
                {
                    error = "error parsing regexp: trailing backslash at end of expression: ``";
                    return null;
                }

                var e = p[++i];
                switch (e)
                {
                    case >= '1' and <= '9':
                        error = $"error parsing regexp: invalid escape sequence: `\\{e}`";
                        return null;
                    case 'd':
                        result.Append(inClass ? "0-9" : "[0-9]");
                        break;
                    case 'D':
                        result.Append(inClass ? "\\x00-/:-\\uFFFF" : "[^0-9]");
                        break;
                    case 'w':
                        result.Append(inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]");
                        break;
                    case 'W':
                        result.Append(inClass ? "\\x00-/:-@\\[-^`{-\\uFFFF" : "[^0-9A-Za-z_]");
                        break;
                    case 's':
                        result.Append(inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]");
                        break;
                    case 'S':
                        result.Append(inClass ? "\\x00-\\x08\\x0B\\x0E-\\x1F!-\\uFFFF" : "[^\\t\\n\\f\\r ]");
                        break;
                    case 'z':
                        result.Append("\\z");
                        break;
                    case 'Z' or 'G' or 'k' or 'c' or 'e' or 'R' or 'X' or 'g' or 'h' or 'H' or 'V' or 'K' or 'N' or 'o':
                        error = $"error parsing regexp: invalid escape sequence: `\\{e}`";
                        return null;
                    case 'p' or 'P' when i + 1 < p.Length && p[i + 1] != '{':
                        result.Append('\\').Append(e).Append('{').Append(p[i + 1]).Append('}');
                        i++;
                        break;
                    case 'Q':
                        {
                            var end = p.IndexOf("\\E", i + 1, StringComparison.Ordinal);
                            var literal = end < 0 ? p[(i + 1)..] : p[(i + 1)..end];
                            result.Append(Regex.Escape(literal));
                            i = end < 0 ? p.Length : end + 1;
                            break;
                        }

                    default:
                        result.Append('\\').Append(e);
                        break;
                }

                continue;
            }

            if (inClass)
            {
                if (c == '[' && i + 1 < p.Length && p[i + 1] == ':')
                {
                    var end = p.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (end > 0)
                    {
                        var name = p[(i + 2)..end];
                        var negated = name.StartsWith('^');
                        if (PosixClasses.TryGetValue(negated ? name[1..] : name, out var range) && !negated)
                        {
                            result.Append(range);
                            i = end + 1;
                            continue;
                        }

                        error = $"error parsing regexp: invalid character class range: `[:{name}:]`";
                        return null;
                    }
                }

                if (c == '[')
                {
                    result.Append("\\[");
                    continue;
                }

                if (c == ']')
                {
                    inClass = false;
                }

                result.Append(c);
                continue;
            }

            switch (c)
            {
                case '[':
                    inClass = true;
                    result.Append(c);
                    if (i + 1 < p.Length && p[i + 1] == '^')
                    {
                        result.Append('^');
                        i++;
                    }

                    // A ']' first in a class is a literal in RE2.
                    if (i + 1 < p.Length && p[i + 1] == ']')
                    {
                        result.Append("\\]");
                        i++;
                    }

                    break;
                case '$':
                    // RE2's $ matches only at the very end unless (?m) is set; .NET's also matches before a final newline.
                    result.Append(HasMultilineFlag(p, i) ? "(?=\\n|\\z)" : "\\z");
                    break;
                case '(' when i + 1 < p.Length && p[i + 1] == '?':
                    {
                        var rest = p[(i + 2)..];
                        if (rest.StartsWith("<=", StringComparison.Ordinal) || rest.StartsWith("<!", StringComparison.Ordinal))
                        {
                            error = $"error parsing regexp: invalid or unsupported Perl syntax: `{p[i..Math.Min(p.Length, i + 4)]}`";
                            return null;
                        }

                        if (rest.StartsWith("P<", StringComparison.Ordinal) || rest.StartsWith('<'))
                        {
                            // Named groups; .NET spells them (?<name>…) only.
                            result.Append("(?<");
                            i += rest.StartsWith('P') ? 3 : 2;
                            break;
                        }

                        if (rest.StartsWith('=') || rest.StartsWith('!') || rest.StartsWith('>') || rest.StartsWith('(') ||
                            rest.StartsWith('#') || rest.StartsWith('\''))
                        {
                            error = $"error parsing regexp: invalid or unsupported Perl syntax: `{p[i..Math.Min(p.Length, i + 3)]}`";
                            return null;
                        }

                        var flagEnd = 0;
                        while (flagEnd < rest.Length && rest[flagEnd] is 'i' or 'm' or 's' or 'U' or '-')
                        {
                            flagEnd++;
                        }

                        if (flagEnd >= rest.Length || rest[flagEnd] is not (':' or ')') || rest[..flagEnd].Contains('U', StringComparison.Ordinal))
                        {
                            var shown = p[i..Math.Min(p.Length, i + 2 + flagEnd + 1)];
                            error = $"error parsing regexp: invalid or unsupported Perl syntax: `{shown}`";
                            return null;
                        }

                        result.Append(c);
                        break;
                    }

                case '*' or '+' or '?' or '}' when i + 1 < p.Length && p[i + 1] == '+':
                    error = $"error parsing regexp: invalid nested repetition operator: `{c}+`";
                    return null;
                default:
                    result.Append(c);
                    break;
            }
        }

        return result.ToString();
    }

    private static bool HasMultilineFlag(string pattern, int before)
    {
        var flags = Regex.Matches(pattern[..before], @"\(\?([imsU-]*)[:)]");
        return flags.Any(m => m.Groups[1].Value.Split('-')[0].Contains('m', StringComparison.Ordinal));
    }
}
