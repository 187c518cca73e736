using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.Moe.Tokenization;

/// <summary>
/// A Hugging Face pre-tokenizer pattern (Oniguruma syntax, matched over Unicode code points) run by .NET's regex engine,
/// which matches UTF-16 code units.
/// </summary>
/// <remarks>
/// <para>
/// A character outside the Basic Multilingual Plane (an emoji, a CJK Extension B ideograph) is two code units to .NET:
/// <c>\p{S}</c> would not match it and <c>[^\p{L}]</c> would match half of it. So each such character of the text is
/// replaced, for matching only, by a BMP character that this pattern treats the same way: the same general category,
/// and inside or outside each character class exactly as the original is (a class may list ranges beyond the BMP,
/// as DeepSeek-V2's letter class does). Match offsets are mapped back to the original text.
/// </para>
/// <para>
/// Matches are enumerated as Hugging Face's Oniguruma binding does: an empty match right where the previous match ended
/// is skipped. <c>^</c> and <c>$</c> are line anchors, as in Oniguruma's Ruby syntax. Constructs that Oniguruma and .NET
/// read differently (nested classes, POSIX brackets, class intersection, the <c>m</c> and <c>s</c> inline options) are refused.
/// </para>
/// </remarks>
internal sealed class CodePointRegex
{
    private const string MetaCharacters = "|()?*+.^${}";

    private readonly Regex _regex;
    private readonly string _location;
    private readonly List<CharClass> _classes = [];
    private readonly HashSet<char> _outsideLiterals = [];
    private readonly Lazy<bool[]?[]> _literalTables;
    private readonly ConcurrentDictionary<(UnicodeCategory Category, ulong Membership), char> _proxies = new();

    /// <summary>Compiles <paramref name="pattern"/>; <paramref name="location"/> names it in errors (file and JSON path).</summary>
    /// <exception cref="NotSupportedException">The pattern uses a construct .NET cannot match as Oniguruma does.</exception>
    public CodePointRegex(string pattern, string location)
    {
        _location = location;
        var rewritten = Rewrite(pattern);
        if (_classes.Count(c => c.Astral.Count > 0) > 64)
        {
            throw Unsupported("more than 64 character classes list characters outside the Basic Multilingual Plane");
        }

        try
        {
            _regex = new Regex(rewritten, RegexOptions.CultureInvariant | RegexOptions.Multiline | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw Unsupported($"the pattern is not one .NET regular expressions can run ({e.Message})");
        }

        _literalTables = new Lazy<bool[]?[]>(BuildLiteralTables);
    }

    /// <summary>The matches of the pattern in <paramref name="text"/>, as [start, end) offsets into it.</summary>
    public List<(int Start, int End)> Matches(ReadOnlySpan<char> text)
    {
        var matches = new List<(int Start, int End)>();
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            Collect(text, null, matches);
            return matches;
        }

        var proxy = new char[text.Length];
        var origin = new int[text.Length + 1];
        var length = 0;
        for (var i = 0; i < text.Length; i++)
        {
            origin[length] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                proxy[length++] = ProxyFor(char.ConvertToUtf32(text[i], text[i + 1]));
                i++;
            }
            else
            {
                proxy[length++] = text[i];
            }
        }

        origin[length] = text.Length;
        Collect(proxy.AsSpan(0, length), origin, matches);
        return matches;
    }

    private void Collect(ReadOnlySpan<char> text, int[]? origin, List<(int Start, int End)> matches)
    {
        var previousEnd = -1;
        foreach (var match in _regex.EnumerateMatches(text))
        {
            var start = match.Index;
            var end = match.Index + match.Length;
            if (start == end && end == previousEnd)
            {
                continue;
            }

            previousEnd = end;
            matches.Add(origin is null ? (start, end) : (origin[start], origin[end]));
        }
    }

    private char ProxyFor(int codePoint)
    {
        var category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        ulong membership = 0;
        var bit = 0;
        foreach (var charClass in _classes.Where(c => c.Astral.Count > 0))
        {
            if (charClass.Astral.Exists(range => range.Low <= codePoint && codePoint <= range.High))
            {
                membership |= 1UL << bit;
            }

            bit++;
        }

        return _proxies.GetOrAdd((category, membership), static (key, state) => state.Self.FindProxy(key.Category, key.Membership, state.CodePoint), (Self: this, CodePoint: codePoint));
    }

    private char FindProxy(UnicodeCategory category, ulong membership, int codePoint)
    {
        var tables = _literalTables.Value;
        for (var candidate = 0x21; candidate <= 0xFFFF; candidate++)
        {
            var c = (char)candidate;
            if (char.IsSurrogate(c) || char.IsWhiteSpace(c) || char.IsControl(c) || c is '\u200C' or '\u200D'
                || char.GetUnicodeCategory(c) != category)
            {
                continue;
            }

            if (BehavesAs(c, tables, membership) && BehavesAs(char.ToUpperInvariant(c), tables, membership)
                && BehavesAs(char.ToLowerInvariant(c), tables, membership))
            {
                return c;
            }
        }

        throw Unsupported($"the text has U+{codePoint:X} ({category}), and no character of the Basic Multilingual Plane is treated by this pattern as it would be");
    }

    private bool BehavesAs(char c, bool[]?[] tables, ulong membership)
    {
        if (_outsideLiterals.Contains(c))
        {
            return false;
        }

        var bit = 0;
        for (var k = 0; k < _classes.Count; k++)
        {
            var expected = false;
            if (_classes[k].Astral.Count > 0)
            {
                expected = (membership & (1UL << bit)) != 0;
                bit++;
            }

            if ((tables[k]?[c] ?? false) != expected)
            {
                return false;
            }
        }

        return true;
    }

    private bool[]?[] BuildLiteralTables()
    {
        var tables = new bool[]?[_classes.Count];
        var one = new char[1];
        for (var k = 0; k < _classes.Count; k++)
        {
            if (_classes[k].Literals.Length == 0)
            {
                continue;
            }

            var literal = new Regex($"[{_classes[k].Literals}]", RegexOptions.CultureInvariant);
            var table = new bool[65536];
            for (var c = 0; c < table.Length; c++)
            {
                one[0] = (char)c;
                table[c] = literal.IsMatch(one);
            }

            tables[k] = table;
        }

        return tables;
    }

    /// <summary>
    /// The pattern with every character class written out unambiguously for .NET (literal characters as \uXXXX,
    /// characters beyond the BMP taken out and recorded), and the literal characters outside classes recorded.
    /// </summary>
    private string Rewrite(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 16);
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            if (c == '[')
            {
                i = RewriteClass(pattern, i, output);
                continue;
            }

            if (c == '(' && i + 1 < pattern.Length && pattern[i + 1] == '?')
            {
                CheckInlineOptions(pattern, i + 2);
            }

            if (c == '\\')
            {
                var (length, codePoint) = ReadEscape(pattern, i);
                if (codePoint >= 0x10000)
                {
                    throw Unsupported($"it has U+{codePoint:X}, a character outside the Basic Multilingual Plane, outside a character class");
                }

                if (codePoint >= 0)
                {
                    _outsideLiterals.Add((char)codePoint);
                    output.Append(CultureInfo.InvariantCulture, $"\\u{codePoint:X4}");
                }
                else
                {
                    output.Append(pattern, i, length);
                }

                i += length;
                continue;
            }

            if (char.IsHighSurrogate(c))
            {
                throw Unsupported($"it has U+{char.ConvertToUtf32(pattern, i):X}, a character outside the Basic Multilingual Plane, outside a character class");
            }

            if (!MetaCharacters.Contains(c, StringComparison.Ordinal))
            {
                _outsideLiterals.Add(c);
            }

            output.Append(c);
            i++;
        }

        return output.ToString();
    }

    private void CheckInlineOptions(string pattern, int start)
    {
        var end = start;
        while (end < pattern.Length && (char.IsAsciiLetter(pattern[end]) || pattern[end] == '-'))
        {
            end++;
        }

        if (end > start && end < pattern.Length && pattern[end] is ':' or ')')
        {
            var options = pattern[start..end];
            if (options.Contains('m', StringComparison.Ordinal) || options.Contains('s', StringComparison.Ordinal))
            {
                throw Unsupported($"the inline option group (?{options}) means one thing to Oniguruma and another to .NET");
            }
        }
    }

    private int RewriteClass(string pattern, int start, StringBuilder output)
    {
        var i = start + 1;
        var negated = i < pattern.Length && pattern[i] == '^';
        if (negated)
        {
            i++;
        }

        var escapes = new StringBuilder();
        var literals = new StringBuilder();
        var astral = new List<(int Low, int High)>();
        var first = true;
        while (true)
        {
            if (i >= pattern.Length)
            {
                throw Unsupported($"the character class at offset {start} is not closed");
            }

            var c = pattern[i];
            if (c == ']' && !first)
            {
                i++;
                break;
            }

            if (c == '[')
            {
                throw Unsupported($"it has a nested character class or POSIX bracket at offset {i}, which .NET reads differently");
            }

            if (c == '&' && i + 1 < pattern.Length && pattern[i + 1] == '&')
            {
                throw Unsupported($"it has a class intersection (&&) at offset {i}, which .NET does not have");
            }

            first = false;
            var (length, low) = ReadClassAtom(pattern, i);
            if (low < 0)
            {
                escapes.Append(pattern, i, length);
                i += length;
                continue;
            }

            i += length;
            var high = low;
            if (i + 1 < pattern.Length && pattern[i] == '-' && pattern[i + 1] != ']')
            {
                var (highLength, highCodePoint) = ReadClassAtom(pattern, i + 1);
                if (highCodePoint >= 0)
                {
                    if (highCodePoint < low)
                    {
                        throw Unsupported($"the range at offset {i - length} of its character class is in reverse order");
                    }

                    high = highCodePoint;
                    i += 1 + highLength;
                }
            }

            if (low < 0x10000)
            {
                literals.Append(CultureInfo.InvariantCulture, $"\\u{low:X4}-\\u{Math.Min(high, 0xFFFF):X4}");
            }

            if (high >= 0x10000)
            {
                astral.Add((Math.Max(low, 0x10000), high));
            }
        }

        if (escapes.Length == 0 && literals.Length == 0)
        {
            throw Unsupported($"the character class at offset {start} lists only characters outside the Basic Multilingual Plane");
        }

        _classes.Add(new CharClass(literals.ToString(), astral));
        output.Append('[');
        if (negated)
        {
            output.Append('^');
        }

        output.Append(escapes).Append(literals).Append(']');
        return i;
    }

    /// <summary>A class member at <paramref name="i"/>: its length and the code point it stands for, or -1 for a class escape such as \p{L}.</summary>
    private static (int Length, int CodePoint) ReadClassAtom(string pattern, int i)
    {
        if (pattern[i] == '\\')
        {
            return ReadEscape(pattern, i);
        }

        return char.IsHighSurrogate(pattern[i]) && i + 1 < pattern.Length && char.IsLowSurrogate(pattern[i + 1])
            ? (2, char.ConvertToUtf32(pattern[i], pattern[i + 1]))
            : (1, pattern[i]);
    }

    /// <summary>The escape at <paramref name="i"/>: its length and the literal code point it stands for, or -1 when it is not a literal.</summary>
    private static (int Length, int CodePoint) ReadEscape(string pattern, int i)
    {
        if (i + 1 >= pattern.Length)
        {
            return (1, -1);
        }

        var e = pattern[i + 1];
        switch (e)
        {
            case 'p' or 'P' when i + 2 < pattern.Length && pattern[i + 2] == '{':
                var close = pattern.IndexOf('}', i + 3);
                return (close < 0 ? pattern.Length - i : close - i + 1, -1);
            case 't':
                return (2, '\t');
            case 'n':
                return (2, '\n');
            case 'r':
                return (2, '\r');
            case 'f':
                return (2, '\f');
            case 'v':
                return (2, '\v');
            case 'a':
                return (2, '\a');
            case 'e':
                return (2, '\x1B');
            case 'x' when i + 2 < pattern.Length && pattern[i + 2] == '{':
                var brace = pattern.IndexOf('}', i + 3);
                return brace > i + 3 && int.TryParse(pattern.AsSpan(i + 3, brace - i - 3), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var braced)
                    ? (brace - i + 1, braced)
                    : (2, -1);
            case 'x':
                var digits = 0;
                while (digits < 2 && i + 2 + digits < pattern.Length && char.IsAsciiHexDigit(pattern[i + 2 + digits]))
                {
                    digits++;
                }

                return digits == 0 ? (2, -1) : (2 + digits, int.Parse(pattern.AsSpan(i + 2, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
            case 'u' when i + 6 <= pattern.Length && int.TryParse(pattern.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var unit):
                if (char.IsHighSurrogate((char)unit) && i + 12 <= pattern.Length && pattern[i + 6] == '\\' && pattern[i + 7] == 'u'
                    && int.TryParse(pattern.AsSpan(i + 8, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var lowUnit)
                    && char.IsLowSurrogate((char)lowUnit))
                {
                    return (12, char.ConvertToUtf32((char)unit, (char)lowUnit));
                }

                return (6, unit);
            case 'b':
                // A backspace inside a class, a word boundary outside; the caller outside a class only copies it.
                return (2, -1);
            default:
                if (char.IsAsciiLetterOrDigit(e))
                {
                    // \d \w \s \h \A \z \G \k \1 and the like: not a literal.
                    return (2, -1);
                }

                return char.IsHighSurrogate(e) && i + 2 < pattern.Length && char.IsLowSurrogate(pattern[i + 2])
                    ? (3, char.ConvertToUtf32(e, pattern[i + 2]))
                    : (2, e);
        }
    }

    private NotSupportedException Unsupported(string what) => new($"{_location}: {what}");

    /// <summary>A character class: its BMP literal members as a .NET class body, and its ranges beyond the BMP.</summary>
    private sealed record CharClass(string Literals, List<(int Low, int High)> Astral);
}
