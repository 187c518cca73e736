using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>A node of a parsed JSONPath template (client-go <c>util/jsonpath</c> <c>Node</c>).</summary>
internal abstract record JsonPathNode;

/// <summary>A sequence of nodes evaluated one after the other; each <c>{…}</c> action is one.</summary>
internal sealed record JsonPathList(List<JsonPathNode> Nodes) : JsonPathNode;

/// <summary>Literal text, outside actions or quoted inside them.</summary>
internal sealed record JsonPathText(string Text) : JsonPathNode;

/// <summary><c>.name</c>: a member of an object.</summary>
internal sealed record JsonPathField(string Name) : JsonPathNode;

/// <summary>A bare word inside an action: <c>range</c> or <c>end</c>.</summary>
internal sealed record JsonPathIdentifier(string Name) : JsonPathNode;

/// <summary>One bound of a slice: its value, whether it was given, and whether it was derived from the start (<c>[i]</c>).</summary>
internal readonly record struct JsonPathSliceBound(int Value, bool Known, bool Derived);

/// <summary><c>[i]</c>, <c>[start:end:step]</c> or <c>[*]</c>.</summary>
internal sealed record JsonPathArray(JsonPathSliceBound Start, JsonPathSliceBound End, JsonPathSliceBound Step) : JsonPathNode;

/// <summary><c>[?(@.a == "b")]</c>; <see cref="Operator"/> is <c>exists</c> for <c>[?(@.a)]</c>.</summary>
internal sealed record JsonPathFilter(JsonPathList Left, JsonPathList Right, string Operator) : JsonPathNode;

/// <summary>An integer literal.</summary>
internal sealed record JsonPathInt(int Value) : JsonPathNode;

/// <summary>A decimal literal.</summary>
internal sealed record JsonPathFloat(double Value) : JsonPathNode;

/// <summary><c>true</c> or <c>false</c>.</summary>
internal sealed record JsonPathBool(bool Value) : JsonPathNode;

/// <summary><c>.*</c>: every member or element.</summary>
internal sealed record JsonPathWildcard : JsonPathNode;

/// <summary><c>..</c>: the value and everything beneath it.</summary>
internal sealed record JsonPathRecursive : JsonPathNode;

/// <summary><c>[a,b]</c>: the results of each branch, one after the other.</summary>
internal sealed record JsonPathUnion(IReadOnlyList<JsonPathList> Branches) : JsonPathNode;

/// <summary>A JSONPath syntax error: the message client-go gives, and the offset in the template where parsing stopped.</summary>
internal sealed record JsonPathError(string Message, int Position)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Message} (at offset {Position})");
}

/// <summary>The parser of client-go's <c>util/jsonpath</c>, with its grammar quirks and messages.</summary>
internal sealed partial class JsonPathParser
{
    private const int Eof = -1;

    private readonly string _input;
    private readonly JsonPathList _root = new([]);
    private int _position;
    private int _start;
    private int _width;

    private JsonPathParser(string input) => _input = input;

    /// <summary>Parses a template (<c>text {.a.b} text</c>) into its root list; an action is a nested list.</summary>
    public static JsonPathList? Parse(string text, out JsonPathError? error)
    {
        var parser = new JsonPathParser(text);
        var message = parser.ParseText();
        error = message is null ? null : new JsonPathError(message, parser._position);
        return message is null ? parser._root : null;
    }

    // One action's content, parsed alone: "{" + text + "}" gives a root holding a single list.
    private static JsonPathList? ParseAction(string text, out string? error)
    {
        var parsed = Parse("{" + text + "}", out var failure);
        error = failure?.Message;
        return parsed is null ? null : (JsonPathList)parsed.Nodes[0];
    }

    private string? ParseText()
    {
        while (true)
        {
            if (_input.AsSpan(_position).StartsWith("{", StringComparison.Ordinal))
            {
                if (_position > _start)
                {
                    _root.Nodes.Add(new JsonPathText(ConsumeText()));
                }

                _position++;
                ConsumeText();
                var action = new JsonPathList([]);
                _root.Nodes.Add(action);
                if (ParseInsideAction(action) is { } error)
                {
                    return error;
                }

                continue;
            }

            if (Next() == Eof)
            {
                break;
            }
        }

        if (_position > _start)
        {
            _root.Nodes.Add(new JsonPathText(ConsumeText()));
        }

        return null;
    }

    private string? ParseInsideAction(JsonPathList current)
    {
        while (true)
        {
            var rest = _input.AsSpan(_position);
            string? error;
            if (rest.StartsWith("}", StringComparison.Ordinal))
            {
                _position++;
                ConsumeText();
                return null;
            }

            if (rest.StartsWith("[?(", StringComparison.Ordinal))
            {
                error = ParseFilter(current);
            }
            else if (rest.StartsWith("..", StringComparison.Ordinal))
            {
                error = ParseRecursive(current);
            }
            else
            {
                var r = Next();
                switch (r)
                {
                    case Eof or '\r' or '\n':
                        return "unclosed action";
                    case ' ' or '@' or '$':
                        ConsumeText();
                        continue;
                    case '[':
                        error = ParseArray(current);
                        break;
                    case '"' or '\'':
                        error = ParseQuote(current, r);
                        break;
                    case '.':
                        error = ParseField(current);
                        break;
                    case '+' or '-':
                        Backup();
                        error = ParseNumber(current);
                        break;
                    default:
                        if (char.IsDigit((char)r))
                        {
                            Backup();
                            error = ParseNumber(current);
                        }
                        else if (IsAlphaNumeric(r))
                        {
                            Backup();
                            ParseIdentifier(current);
                            error = null;
                        }
                        else
                        {
                            return "unrecognized character in action: " + DescribeRune(r);
                        }

                        break;
                }
            }

            if (error is not null)
            {
                return error;
            }
        }
    }

    private void ParseIdentifier(JsonPathList current)
    {
        while (!IsTerminator(Next()))
        {
        }

        Backup();
        var value = ConsumeText();
        current.Nodes.Add(value is "true" or "false" ? new JsonPathBool(value == "true") : new JsonPathIdentifier(value));
    }

    private string? ParseRecursive(JsonPathList current)
    {
        if (current.Nodes.Count > 0 && current.Nodes[^1] is JsonPathRecursive)
        {
            return "invalid multiple recursive descent";
        }

        _position += 2;
        ConsumeText();
        current.Nodes.Add(new JsonPathRecursive());
        return IsAlphaNumeric(Peek()) ? ParseField(current) : null;
    }

    private string? ParseNumber(JsonPathList current)
    {
        if (Peek() is '+' or '-')
        {
            Next();
        }

        int r;
        while ((r = Next()) == '.' || (r != Eof && char.IsDigit((char)r)))
        {
        }

        Backup();
        var value = ConsumeText();
        if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            current.Nodes.Add(new JsonPathInt(integer));
            return null;
        }

        if (double.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            current.Nodes.Add(new JsonPathFloat(number));
            return null;
        }

        return "cannot parse number " + value;
    }

    private string? ParseArray(JsonPathList current)
    {
        while (true)
        {
            var r = Next();
            if (r is Eof or '\n')
            {
                return "unterminated array";
            }

            if (r == ']')
            {
                break;
            }
        }

        var text = ConsumeText()[1..^1];
        if (text == "*")
        {
            text = ":";
        }

        var parts = text.Split(',');
        if (parts.Length > 1)
        {
            var branches = new List<JsonPathList>();
            foreach (var part in parts)
            {
                var branch = ParseAction("[" + part.Trim(' ') + "]", out var error);
                if (branch is null)
                {
                    return error;
                }

                branches.Add(branch);
            }

            current.Nodes.Add(new JsonPathUnion(branches));
            return null;
        }

        // ['key'] is read as .key, dots included: ['a.b'] is .a.b.
        var dictKey = DictKey().Match(text);
        if (dictKey.Success)
        {
            var fields = ParseAction("." + dictKey.Groups[1].Value, out var error);
            if (fields is null)
            {
                return error;
            }

            current.Nodes.AddRange(fields.Nodes);
            return null;
        }

        var slice = SliceOperator().Match(text);
        if (!slice.Success)
        {
            return "invalid array index " + text;
        }

        var bounds = new JsonPathSliceBound[3];
        for (var i = 0; i < 3; i++)
        {
            var group = slice.Groups[i + 1].Value;
            if (group.Length > 0)
            {
                if (i > 0)
                {
                    group = group[1..];
                }

                if (i > 0 && group.Length == 0)
                {
                    bounds[i] = new JsonPathSliceBound(0, Known: false, Derived: false);
                }
                else if (int.TryParse(group, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    bounds[i] = new JsonPathSliceBound(number, Known: true, Derived: false);
                }
                else
                {
                    return $"array index {group} is not a number";
                }
            }
            else
            {
                bounds[i] = i == 1
                    ? new JsonPathSliceBound(bounds[0].Value + 1, Known: true, Derived: true)
                    : new JsonPathSliceBound(0, Known: false, Derived: false);
            }
        }

        current.Nodes.Add(new JsonPathArray(bounds[0], bounds[1], bounds[2]));
        return null;
    }

    private string? ParseFilter(JsonPathList current)
    {
        _position += 3;
        ConsumeText();
        var begin = false;
        var end = false;
        var pair = 0;
        while (true)
        {
            var r = Next();
            if (r is Eof or '\n')
            {
                return "unterminated filter";
            }

            if (r is '"' or '\'')
            {
                if (!begin)
                {
                    begin = true;
                    pair = r;
                    continue;
                }

                if (_input[_position - 2] != '\\' && r == pair)
                {
                    end = true;
                }
            }
            else if (r == ')' && begin == end)
            {
                break;
            }
        }

        if (Next() != ']')
        {
            return "unclosed array expect ]";
        }

        var text = ConsumeText()[..^2];
        var comparison = FilterComparison().Match(text);
        string? error;
        if (!comparison.Success)
        {
            var operand = ParseAction(text, out error);
            if (operand is null)
            {
                return error;
            }

            current.Nodes.Add(new JsonPathFilter(operand, new JsonPathList([]), "exists"));
            return null;
        }

        var left = ParseAction(comparison.Groups[1].Value, out error);
        if (left is null)
        {
            return error;
        }

        var right = ParseAction(comparison.Groups[3].Value, out error);
        if (right is null)
        {
            return error;
        }

        current.Nodes.Add(new JsonPathFilter(left, right, comparison.Groups[2].Value));
        return null;
    }

    private string? ParseQuote(JsonPathList current, int quote)
    {
        while (true)
        {
            var r = Next();
            if (r is Eof or '\n')
            {
                return "unterminated quoted string";
            }

            if (r == quote && _input[_position - 2] != '\\')
            {
                break;
            }
        }

        var value = ConsumeText();
        if (!TryUnquote(value, out var text))
        {
            return $"unquote string {value} error invalid syntax";
        }

        current.Nodes.Add(new JsonPathText(text));
        return null;
    }

    private string? ParseField(JsonPathList current)
    {
        ConsumeText();
        while (Advance())
        {
        }

        var value = ConsumeText();
        current.Nodes.Add(value == "*" ? new JsonPathWildcard() : new JsonPathField(value.Replace("\\", "", StringComparison.Ordinal)));
        return null;
    }

    // Scans one character of a field name: a backslash escapes the next one, a terminator ends the name.
    private bool Advance()
    {
        var r = Next();
        if (r == '\\')
        {
            Next();
        }
        else if (IsTerminator(r))
        {
            Backup();
            return false;
        }

        return true;
    }

    private string ConsumeText()
    {
        var value = _input[_start.._position];
        _start = _position;
        return value;
    }

    private int Next()
    {
        if (_position >= _input.Length)
        {
            _width = 0;
            return Eof;
        }

        _width = 1;
        return _input[_position++];
    }

    private int Peek()
    {
        var r = Next();
        Backup();
        return r;
    }

    private void Backup() => _position -= _width;

    private static bool IsTerminator(int r) => r is Eof or ' ' or '\t' or '\r' or '\n' or '.' or ',' or '[' or ']' or '$' or '@' or '{' or '}';

    private static bool IsAlphaNumeric(int r) => r != Eof && (r == '_' || char.IsLetterOrDigit((char)r));

    // Go's %#U: U+0021 '!'.
    private static string DescribeRune(int r) =>
        char.IsControl((char)r)
            ? string.Create(CultureInfo.InvariantCulture, $"U+{r:X4}")
            : string.Create(CultureInfo.InvariantCulture, $"U+{r:X4} '{(char)r}'");

    // jsonpath.UnquoteExtend: a Go string literal in double or single quotes.
    private static bool TryUnquote(string literal, out string text)
    {
        text = "";
        if (literal.Length < 2 || literal[0] != literal[^1] || literal[0] is not ('"' or '\''))
        {
            return false;
        }

        var quote = literal[0];
        var body = literal[1..^1];
        var result = new StringBuilder(body.Length);
        for (var i = 0; i < body.Length; i++)
        {
            var c = body[i];
            if (c == quote)
            {
                return false;
            }

            if (c != '\\')
            {
                result.Append(c);
                continue;
            }

            if (++i >= body.Length)
            {
                return false;
            }

            switch (body[i])
            {
                case 'a': result.Append('\a'); break;
                case 'b': result.Append('\b'); break;
                case 'f': result.Append('\f'); break;
                case 'n': result.Append('\n'); break;
                case 'r': result.Append('\r'); break;
                case 't': result.Append('\t'); break;
                case 'v': result.Append('\v'); break;
                case '\\': result.Append('\\'); break;
                case '"' or '\'' when body[i] == quote: result.Append(quote); break;
                case 'x' or 'u' or 'U':
                    var length = body[i] switch { 'x' => 2, 'u' => 4, _ => 8 };
                    if (body.Length - i - 1 < length
                        || !int.TryParse(body.AsSpan(i + 1, length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
                        || code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
                    {
                        return false;
                    }

                    result.Append(char.ConvertFromUtf32(code));
                    i += length;
                    break;
                case >= '0' and <= '7':
                    if (body.Length - i < 3 || body.AsSpan(i, 3).ContainsAnyExceptInRange('0', '7'))
                    {
                        return false;
                    }

                    var octal = Convert.ToInt32(body.Substring(i, 3), 8);
                    if (octal > 255)
                    {
                        return false;
                    }

                    result.Append((char)octal);
                    i += 2;
                    break;
                default:
                    return false;
            }
        }

        text = result.ToString();
        return true;
    }

    [GeneratedRegex(@"^'([^']*)'\z", RegexOptions.CultureInvariant)]
    private static partial Regex DictKey();

    [GeneratedRegex(@"^(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex SliceOperator();

    [GeneratedRegex(@"^([^!<>=]+)([!<>=]+)(.+?)\z", RegexOptions.CultureInvariant)]
    private static partial Regex FilterComparison();
}
