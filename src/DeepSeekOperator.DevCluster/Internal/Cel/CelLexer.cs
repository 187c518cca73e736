using System.Globalization;
using System.Numerics;
using System.Text;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>The kinds of token of the CEL grammar.</summary>
internal enum CelTokenKind
{
    End,
    Identifier,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    Punct,
    Error,
}

/// <summary>One token: its kind, its source text (punctuation and identifiers), its literal value and where it starts.</summary>
internal sealed record CelToken(CelTokenKind Kind, string Text, object? Value, int Offset)
{
    /// <summary>The token as ANTLR names it in cel-go's syntax errors.</summary>
    public string Display => Kind == CelTokenKind.End ? "<EOF>" : Text;

    /// <summary>True for the punctuation or keyword <paramref name="text"/>.</summary>
    public bool Is(string text) => (Kind is CelTokenKind.Punct or CelTokenKind.Identifier) && Text == text;
}

/// <summary>Splits CEL source into tokens, decoding numeric, string and bytes literals.</summary>
internal static class CelLexer
{
    private static readonly string[] Punctuation =
        ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}", ".", ",", ":", "?"];

    /// <summary>Tokenizes <paramref name="source"/>; a character no token starts with gives an <see cref="CelTokenKind.Error"/> token.</summary>
    public static List<CelToken> Tokenize(string source, List<CelIssue> issues)
    {
        var tokens = new List<CelToken>();
        var i = 0;
        while (true)
        {
            i = SkipBlank(source, i);
            if (i >= source.Length)
            {
                tokens.Add(new CelToken(CelTokenKind.End, "", null, source.Length));
                return tokens;
            }

            var token = Next(source, i, issues);
            tokens.Add(token);
            i = token.Offset + token.Text.Length;
        }
    }

    private static int SkipBlank(string s, int i)
    {
        while (i < s.Length)
        {
            if (s[i] is ' ' or '\t' or '\n' or '\r' or '\f')
            {
                i++;
            }
            else if (s[i] == '/' && i + 1 < s.Length && s[i + 1] == '/')
            {
                while (i < s.Length && s[i] != '\n')
                {
                    i++;
                }
            }
            else
            {
                break;
            }
        }

        return i;
    }

    private static CelToken Next(string s, int start, List<CelIssue> issues)
    {
        var c = s[start];
        if (char.IsAsciiDigit(c) || (c == '.' && start + 1 < s.Length && char.IsAsciiDigit(s[start + 1])))
        {
            return Number(s, start, issues);
        }

        if (char.IsAsciiLetter(c) || c == '_')
        {
            var end = start;
            while (end < s.Length && (char.IsAsciiLetterOrDigit(s[end]) || s[end] == '_'))
            {
                end++;
            }

            var word = s[start..end];
            var lower = word.ToLowerInvariant();
            if (end < s.Length && (s[end] is '"' or '\'') && lower is "r" or "b" or "rb" or "br")
            {
                return Quoted(s, start, end, raw: lower.Contains('r', StringComparison.Ordinal), bytes: lower.Contains('b', StringComparison.Ordinal), issues);
            }

            return new CelToken(CelTokenKind.Identifier, word, null, start);
        }

        if (c is '"' or '\'')
        {
            return Quoted(s, start, start, raw: false, bytes: false, issues);
        }

        foreach (var p in Punctuation)
        {
            if (string.CompareOrdinal(s, start, p, 0, p.Length) == 0)
            {
                return new CelToken(CelTokenKind.Punct, p, null, start);
            }
        }

        var text = char.IsSurrogatePair(s, start) ? s.Substring(start, 2) : s[start].ToString();
        issues.Add(new CelIssue(start, $"Syntax error: token recognition error at: '{text}'"));
        return new CelToken(CelTokenKind.Error, text, null, start);
    }

    private static CelToken Number(string s, int start, List<CelIssue> issues)
    {
        var i = start;
        if (s[i] == '0' && i + 1 < s.Length && s[i + 1] is 'x' or 'X' && i + 2 < s.Length && char.IsAsciiHexDigit(s[i + 2]))
        {
            i += 2;
            while (i < s.Length && char.IsAsciiHexDigit(s[i]))
            {
                i++;
            }

            var hex = s[(start + 2)..i];
            var isUint = i < s.Length && s[i] is 'u' or 'U';
            var text = s[start..(isUint ? i + 1 : i)];
            var big = BigInteger.Parse("0" + hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            return IntegerToken(text, big, isUint, start, issues);
        }

        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        var isDouble = false;
        if (i + 1 < s.Length && s[i] == '.' && char.IsAsciiDigit(s[i + 1]))
        {
            isDouble = true;
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
        }

        if (i < s.Length && s[i] is 'e' or 'E')
        {
            var j = i + 1;
            if (j < s.Length && s[j] is '+' or '-')
            {
                j++;
            }

            if (j < s.Length && char.IsAsciiDigit(s[j]))
            {
                isDouble = true;
                i = j;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }
            }
        }

        if (isDouble)
        {
            var text = s[start..i];
            return new CelToken(CelTokenKind.Double, text, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture), start);
        }

        var digits = s[start..i];
        var unsigned = i < s.Length && s[i] is 'u' or 'U';
        return IntegerToken(unsigned ? digits + s[i] : digits, BigInteger.Parse(digits, CultureInfo.InvariantCulture), unsigned, start, issues);
    }

    private static CelToken IntegerToken(string text, BigInteger value, bool unsigned, int start, List<CelIssue> issues)
    {
        if (unsigned)
        {
            if (value > ulong.MaxValue)
            {
                issues.Add(new CelIssue(start, "invalid uint literal"));
                return new CelToken(CelTokenKind.Uint, text, 0UL, start);
            }

            return new CelToken(CelTokenKind.Uint, text, (ulong)value, start);
        }

        // Kept as a big integer so that a leading minus can still fold -9223372036854775808 into range.
        return new CelToken(CelTokenKind.Int, text, value, start);
    }

    private static CelToken Quoted(string s, int start, int quoteAt, bool raw, bool bytes, List<CelIssue> issues)
    {
        var quote = s[quoteAt];
        var triple = quoteAt + 2 < s.Length && s[quoteAt + 1] == quote && s[quoteAt + 2] == quote;
        var delimiter = triple ? new string(quote, 3) : quote.ToString();
        var i = quoteAt + delimiter.Length;
        var body = new StringBuilder();
        while (true)
        {
            if (i >= s.Length || (!triple && s[i] is '\n' or '\r'))
            {
                var text = s[start..Math.Min(i, s.Length)];
                issues.Add(new CelIssue(start, $"Syntax error: token recognition error at: '{text}'"));
                return new CelToken(CelTokenKind.Error, text.Length == 0 ? s[start].ToString() : text, null, start);
            }

            if (string.CompareOrdinal(s, i, delimiter, 0, delimiter.Length) == 0)
            {
                i += delimiter.Length;
                break;
            }

            if (s[i] == '\\' && i + 1 < s.Length)
            {
                // The raw text of an escape is kept; it is decoded below unless the literal is raw.
                body.Append(s, i, 2);
                i += 2;
                continue;
            }

            body.Append(s[i]);
            i++;
        }

        var tokenText = s[start..i];
        if (raw)
        {
            var rawText = body.ToString();
            return bytes
                ? new CelToken(CelTokenKind.Bytes, tokenText, new CelBytes(Encoding.UTF8.GetBytes(rawText)), start)
                : new CelToken(CelTokenKind.String, tokenText, rawText, start);
        }

        var decoded = Unescape(body.ToString(), bytes, out var error);
        if (error is not null)
        {
            issues.Add(new CelIssue(start, error));
            return new CelToken(bytes ? CelTokenKind.Bytes : CelTokenKind.String, tokenText, bytes ? new CelBytes([]) : "", start);
        }

        return bytes
            ? new CelToken(CelTokenKind.Bytes, tokenText, new CelBytes([.. decoded]), start)
            : new CelToken(CelTokenKind.String, tokenText, Encoding.UTF8.GetString([.. decoded]), start);
    }

    /// <summary>Decodes CEL escapes to UTF-8 bytes: in a bytes literal <c>\xHH</c> and octal escapes are single bytes, in a string code points.</summary>
    private static List<byte> Unescape(string text, bool bytes, out string? error)
    {
        error = null;
        var result = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                if (char.IsSurrogatePair(text, i))
                {
                    AppendRune(new Rune(text[i], text[i + 1]), result);
                    i++;
                }
                else
                {
                    // A lone surrogate cannot be encoded; Go would see invalid UTF-8 and use the replacement character too.
                    AppendRune(Rune.TryCreate(text[i], out var rune) ? rune : Rune.ReplacementChar, result);
                }

                continue;
            }

            var e = text[++i];
            switch (e)
            {
                case 'a': result.Add(7); break;
                case 'b': result.Add(8); break;
                case 'f': result.Add(12); break;
                case 'n': result.Add(10); break;
                case 'r': result.Add(13); break;
                case 't': result.Add(9); break;
                case 'v': result.Add(11); break;
                case '\\' or '\'' or '"' or '`' or '?': result.Add((byte)e); break;
                case 'x' or 'X' or 'u' or 'U':
                    {
                        var width = e switch { 'u' => 4, 'U' => 8, _ => 2 };
                        if (text.Length - i - 1 < width ||
                            !uint.TryParse(text.AsSpan(i + 1, width), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                        {
                            error = "Syntax error: invalid escape sequence";
                            return result;
                        }

                        i += width;
                        if (bytes && width == 2)
                        {
                            result.Add((byte)code);
                        }
                        else if (bytes && width > 2)
                        {
                            error = "Syntax error: unicode escapes are not allowed in bytes literals";
                            return result;
                        }
                        else if (!Rune.IsValid(code))
                        {
                            error = "Syntax error: invalid unicode code point";
                            return result;
                        }
                        else
                        {
                            AppendRune(new Rune(code), result);
                        }

                        break;
                    }

                case >= '0' and <= '3':
                    {
                        if (i + 2 >= text.Length || text[i + 1] is < '0' or > '7' || text[i + 2] is < '0' or > '7')
                        {
                            error = "Syntax error: invalid escape sequence";
                            return result;
                        }

                        var code = ((e - '0') * 64) + ((text[i + 1] - '0') * 8) + (text[i + 2] - '0');
                        i += 2;
                        if (bytes)
                        {
                            result.Add((byte)code);
                        }
                        else
                        {
                            AppendRune(new Rune(code), result);
                        }

                        break;
                    }

                default:
                    error = "Syntax error: invalid escape sequence";
                    return result;
            }
        }

        return result;
    }

    private static void AppendRune(Rune rune, List<byte> into)
    {
        Span<byte> buffer = stackalloc byte[4];
        var n = rune.EncodeToUtf8(buffer);
        for (var k = 0; k < n; k++)
        {
            into.Add(buffer[k]);
        }
    }
}
