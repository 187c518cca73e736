using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// The lexer and recursive-descent parser of apimachinery's <c>labels.Parse</c>, ported token for token so that every
/// accepted string and every error message is the same.
/// </summary>
internal static class LabelSelectorParser
{
    private enum Token
    {
        EndOfString,
        ClosedPar,
        Comma,
        DoesNotExist,
        DoubleEquals,
        EqualsSign,
        GreaterThan,
        Identifier,
        In,
        LessThan,
        NotEquals,
        NotIn,
        OpenPar,
    }

    private const string BinaryOperators = "in, notin, =, ==, !=, gt, lt";

    private static readonly Dictionary<string, Token> Keywords = new(StringComparer.Ordinal)
    {
        [")"] = Token.ClosedPar,
        [","] = Token.Comma,
        ["!"] = Token.DoesNotExist,
        ["=="] = Token.DoubleEquals,
        ["="] = Token.EqualsSign,
        [">"] = Token.GreaterThan,
        ["in"] = Token.In,
        ["<"] = Token.LessThan,
        ["!="] = Token.NotEquals,
        ["notin"] = Token.NotIn,
        ["("] = Token.OpenPar,
    };

    /// <summary>Parses <paramref name="text"/> into its requirements, in the order written.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out List<LabelRequirement>? requirements, [NotNullWhen(false)] out string? error)
    {
        var parser = new Parser(Scan(text));
        error = parser.Parse(out requirements);
        return error is null;
    }

    private static List<(Token Token, string Literal)> Scan(string text)
    {
        var items = new List<(Token, string)>();
        var position = 0;
        while (true)
        {
            while (position < text.Length && IsWhitespace(text[position]))
            {
                position++;
            }

            if (position >= text.Length || text[position] == '\0')
            {
                items.Add((Token.EndOfString, ""));
                return items;
            }

            items.Add(IsSpecialSymbol(text[position]) ? ScanSpecialSymbol(text, ref position) : ScanIdentifierOrKeyword(text, ref position));
        }
    }

    private static (Token, string) ScanIdentifierOrKeyword(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && text[position] != '\0' && !IsSpecialSymbol(text[position]) && !IsWhitespace(text[position]))
        {
            position++;
        }

        var literal = text[start..position];
        return Keywords.TryGetValue(literal, out var keyword) ? (keyword, literal) : (Token.Identifier, literal);
    }

    // The longest run of special symbols that still spells a token: "!=" is one token, "=(" is "=" then "(".
    private static (Token, string) ScanSpecialSymbol(string text, ref int position)
    {
        var start = position;
        (Token Token, string Literal)? last = null;
        while (position < text.Length && IsSpecialSymbol(text[position]))
        {
            var candidate = text[start..(position + 1)];
            if (Keywords.TryGetValue(candidate, out var token))
            {
                last = (token, candidate);
            }
            else if (last is not null)
            {
                break;
            }

            position++;
        }

        // Every special symbol alone is a token, so something was found.
        return last!.Value;
    }

    private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static bool IsSpecialSymbol(char c) => c is '=' or '!' or '(' or ')' or ',' or '>' or '<';

    private sealed class Parser(List<(Token Token, string Literal)> items)
    {
        private int _position;

        public string? Parse(out List<LabelRequirement>? requirements)
        {
            requirements = [];
            while (true)
            {
                var (token, literal) = Lookahead(values: true);
                switch (token)
                {
                    case Token.Identifier or Token.DoesNotExist:
                        var error = ParseRequirement(out var requirement);
                        if (error is not null)
                        {
                            requirements = null;
                            return "unable to parse requirement: " + error;
                        }

                        requirements.Add(requirement!);
                        var (next, nextLiteral) = Consume(values: true);
                        switch (next)
                        {
                            case Token.EndOfString:
                                return null;
                            case Token.Comma:
                                var (after, afterLiteral) = Lookahead(values: true);
                                if (after is not Token.Identifier and not Token.DoesNotExist)
                                {
                                    requirements = null;
                                    return $"found '{afterLiteral}', expected: identifier after ','";
                                }

                                break;
                            default:
                                requirements = null;
                                return $"found '{nextLiteral}', expected: ',' or 'end of string'";
                        }

                        break;
                    case Token.EndOfString:
                        return null;
                    default:
                        requirements = null;
                        return $"found '{literal}', expected: !, identifier, or 'end of string'";
                }
            }
        }

        // In a value position the words "in" and "notin" are plain identifiers.
        private (Token Token, string Literal) Lookahead(bool values)
        {
            var (token, literal) = items[_position];
            return (values && token is Token.In or Token.NotIn ? Token.Identifier : token, literal);
        }

        private (Token Token, string Literal) Consume(bool values)
        {
            var item = Lookahead(values);
            _position++;
            return item;
        }

        private string? ParseRequirement(out LabelRequirement? requirement)
        {
            requirement = null;
            var notExists = false;
            var (token, key) = Consume(values: true);
            if (token == Token.DoesNotExist)
            {
                notExists = true;
                (token, key) = Consume(values: true);
            }

            if (token != Token.Identifier)
            {
                return $"found '{key}', expected: identifier";
            }

            var keyErrors = NameValidation.IsQualifiedName(key);
            if (keyErrors.Count > 0)
            {
                return new FieldError(FieldErrorType.Invalid, "<nil>", GoText.Quote(key), string.Join("; ", keyErrors)).ToString();
            }

            if (notExists || Lookahead(values: true).Token is Token.EndOfString or Token.Comma)
            {
                requirement = new LabelRequirement(key, notExists ? LabelOperator.DoesNotExist : LabelOperator.Exists, []);
                return null;
            }

            var (operatorToken, operatorLiteral) = Consume(values: false);
            LabelOperator op;
            switch (operatorToken)
            {
                case Token.In:
                    op = LabelOperator.In;
                    break;
                case Token.EqualsSign:
                    op = LabelOperator.Equals;
                    break;
                case Token.DoubleEquals:
                    op = LabelOperator.DoubleEquals;
                    break;
                case Token.GreaterThan:
                    op = LabelOperator.GreaterThan;
                    break;
                case Token.LessThan:
                    op = LabelOperator.LessThan;
                    break;
                case Token.NotIn:
                    op = LabelOperator.NotIn;
                    break;
                case Token.NotEquals:
                    op = LabelOperator.NotEquals;
                    break;
                default:
                    return $"found '{operatorLiteral}', expected: {BinaryOperators}";
            }

            var error = op is LabelOperator.In or LabelOperator.NotIn ? ParseValues(out var values) : ParseExactValue(out values);
            if (error is not null)
            {
                return error;
            }

            // A set of values, as Kubernetes keeps them: deduplicated and sorted.
            var sorted = values!.Distinct().Order(StringComparer.Ordinal).ToArray();
            error = ValidateValues(key, op, sorted);
            if (error is not null)
            {
                return error;
            }

            requirement = new LabelRequirement(key, op, sorted);
            return null;
        }

        private string? ParseValues(out List<string>? values)
        {
            values = null;
            var (token, literal) = Consume(values: true);
            if (token != Token.OpenPar)
            {
                return $"found '{literal}' expected: '('";
            }

            (token, literal) = Lookahead(values: true);
            switch (token)
            {
                case Token.Identifier or Token.Comma:
                    var error = ParseIdentifiersList(out values);
                    if (error is not null)
                    {
                        return error;
                    }

                    if (Consume(values: true).Token != Token.ClosedPar)
                    {
                        values = null;
                        return $"found '{literal}', expected: ')'";
                    }

                    return null;
                case Token.ClosedPar:
                    Consume(values: true);
                    values = [""];
                    return null;
                default:
                    return $"found '{literal}', expected: ',', ')' or identifier";
            }
        }

        private string? ParseIdentifiersList(out List<string>? values)
        {
            values = [];
            while (true)
            {
                var (token, literal) = Consume(values: true);
                switch (token)
                {
                    case Token.Identifier:
                        values.Add(literal);
                        var (next, nextLiteral) = Lookahead(values: true);
                        switch (next)
                        {
                            case Token.Comma:
                                continue;
                            case Token.ClosedPar:
                                return null;
                            default:
                                values = null;
                                return $"found '{nextLiteral}', expected: ',' or ')'";
                        }

                    case Token.Comma:
                        // "(,", ",)" and ",," each stand for an empty value.
                        if (values.Count == 0)
                        {
                            values.Add("");
                        }

                        var following = Lookahead(values: true).Token;
                        if (following == Token.ClosedPar)
                        {
                            values.Add("");
                            return null;
                        }

                        if (following == Token.Comma)
                        {
                            Consume(values: true);
                            values.Add("");
                        }

                        break;
                    default:
                        values = null;
                        return $"found '{literal}', expected: ',', or identifier";
                }
            }
        }

        private string? ParseExactValue(out List<string>? values)
        {
            if (Lookahead(values: true).Token is Token.EndOfString or Token.Comma)
            {
                values = [""];
                return null;
            }

            var (token, literal) = Consume(values: true);
            if (token == Token.Identifier)
            {
                values = [literal];
                return null;
            }

            values = null;
            return $"found '{literal}', expected: identifier";
        }

        // The checks of labels.NewRequirement that a parsed requirement can still fail, aggregated as Kubernetes does.
        private static string? ValidateValues(string key, LabelOperator op, string[] values)
        {
            var errors = new List<string>();
            if (op is LabelOperator.GreaterThan or LabelOperator.LessThan)
            {
                for (var i = 0; i < values.Length; i++)
                {
                    if (!LabelRequirement.TryParseInt64(values[i], out _))
                    {
                        errors.Add(new FieldError(FieldErrorType.Invalid, ValuePath(i), GoText.Quote(values[i]),
                            "for 'Gt', 'Lt' operators, the value must be an integer").ToString());
                    }
                }
            }

            for (var i = 0; i < values.Length; i++)
            {
                var problems = NameValidation.IsValidLabelValue(values[i]);
                if (problems.Count > 0)
                {
                    errors.Add(new FieldError(FieldErrorType.Invalid, ValuePath(i) + "[" + key + "]", GoText.Quote(values[i]),
                        string.Join("; ", problems)).ToString());
                }
            }

            var distinct = errors.Distinct().ToList();
            return distinct.Count switch
            {
                0 => null,
                1 => distinct[0],
                _ => "[" + string.Join(", ", distinct) + "]",
            };
        }

        private static string ValuePath(int index) => string.Create(CultureInfo.InvariantCulture, $"values[{index}]");
    }
}
