using System.Numerics;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// A recursive-descent parser for the CEL grammar, expanding the macros (<c>has</c>, <c>all</c>, <c>exists</c>,
/// <c>exists_one</c>, <c>map</c>, <c>filter</c>) as cel-go's parser does.
/// </summary>
internal sealed class CelParser
{
    private const int MaxDepth = 250;

    private const string PrimaryExpected =
        "{'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}";

    private static readonly HashSet<string> Reserved =
    [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package",
        "namespace", "return", "var", "void", "while",
    ];

    private readonly List<CelToken> _tokens;
    private readonly List<CelIssue> _issues;
    private int _position;
    private int _depth;

    private CelParser(List<CelToken> tokens, List<CelIssue> issues)
    {
        _tokens = tokens;
        _issues = issues;
    }

    private CelToken Current => _tokens[_position];

    /// <summary>Parses <paramref name="source"/>; returns null when there are syntax errors, which are added to <paramref name="issues"/>.</summary>
    public static CelExpr? Parse(string source, List<CelIssue> issues)
    {
        var tokens = CelLexer.Tokenize(source, issues);
        if (issues.Count > 0)
        {
            return null;
        }

        var parser = new CelParser(tokens, issues);
        try
        {
            var expr = parser.Expression();
            if (parser.Current.Kind != CelTokenKind.End)
            {
                parser.Fail($"Syntax error: mismatched input '{parser.Current.Display}' expecting <EOF>");
            }

            return issues.Count > 0 ? null : expr;
        }
        catch (SyntaxException)
        {
            return null;
        }
    }

    private CelExpr Expression()
    {
        if (++_depth > MaxDepth)
        {
            Fail($"expression recursion limit exceeded: {MaxDepth}");
        }

        var condition = Or();
        if (Current.Is("?"))
        {
            var at = Take().Offset;
            var whenTrue = Or();
            Expect(":");
            var whenFalse = Expression();
            condition = new CelCall(at, null, "_?_:_", [condition, whenTrue, whenFalse]);
        }

        _depth--;
        return condition;
    }

    private CelExpr Or()
    {
        var left = And();
        while (Current.Is("||"))
        {
            var at = Take().Offset;
            left = new CelCall(at, null, "_||_", [left, And()]);
        }

        return left;
    }

    private CelExpr And()
    {
        var left = Relation();
        while (Current.Is("&&"))
        {
            var at = Take().Offset;
            left = new CelCall(at, null, "_&&_", [left, Relation()]);
        }

        return left;
    }

    private CelExpr Relation()
    {
        var left = Addition();
        while (true)
        {
            var function = Current.Kind == CelTokenKind.Punct || Current.Is("in")
                ? Current.Text switch
                {
                    "<" => "_<_",
                    "<=" => "_<=_",
                    ">" => "_>_",
                    ">=" => "_>=_",
                    "==" => "_==_",
                    "!=" => "_!=_",
                    "in" => "@in",
                    _ => null,
                }
                : null;
            if (function is null)
            {
                return left;
            }

            var at = Take().Offset;
            left = new CelCall(at, null, function, [left, Addition()]);
        }
    }

    private CelExpr Addition()
    {
        var left = Multiplication();
        while (Current.Kind == CelTokenKind.Punct && Current.Text is "+" or "-")
        {
            var op = Take();
            left = new CelCall(op.Offset, null, op.Text == "+" ? "_+_" : "_-_", [left, Multiplication()]);
        }

        return left;
    }

    private CelExpr Multiplication()
    {
        var left = Unary();
        while (Current.Kind == CelTokenKind.Punct && Current.Text is "*" or "/" or "%")
        {
            var op = Take();
            left = new CelCall(op.Offset, null, "_" + op.Text + "_", [left, Unary()]);
        }

        return left;
    }

    private CelExpr Unary()
    {
        if (Current.Is("!") || Current.Is("-"))
        {
            var op = Current.Text;
            var at = Current.Offset;
            var count = 0;
            while (Current.Is(op))
            {
                Take();
                count++;
            }

            // A minus directly before a numeric literal is part of the literal, so -9223372036854775808 is an int.
            if (op == "-" && Current.Kind is CelTokenKind.Int or CelTokenKind.Double)
            {
                var literalAt = _tokens[_position - 1].Offset;
                var literal = Member(NegatedLiteral(literalAt));
                count--;
                return count % 2 == 0 ? literal : new CelCall(at, null, "-_", [literal]);
            }

            // cel-go drops an even number of repeated unary operators.
            var operand = Member(Primary());
            return count % 2 == 0 ? operand : new CelCall(at, null, op == "!" ? "!_" : "-_", [operand]);
        }

        return Member(Primary());
    }

    private CelLiteral NegatedLiteral(int at)
    {
        var token = Take();
        if (token.Kind == CelTokenKind.Double)
        {
            return new CelLiteral(at, -(double)token.Value!);
        }

        var value = -(BigInteger)token.Value!;
        if (value < long.MinValue)
        {
            Issue(at, "invalid int literal");
            return new CelLiteral(at, 0L);
        }

        return new CelLiteral(at, (long)value);
    }

    private CelExpr Member(CelExpr operand)
    {
        while (true)
        {
            if (Current.Is("."))
            {
                var dot = Take();
                if (Current.Is("?"))
                {
                    Fail("unsupported syntax '.?'", Current.Offset);
                }

                var name = Identifier();
                if (Current.Is("("))
                {
                    var open = Take().Offset;
                    var args = Arguments(")");
                    operand = ReceiverCallOrMacro(open, operand, name, args);
                }
                else
                {
                    operand = new CelSelect(dot.Offset, operand, name, false);
                }
            }
            else if (Current.Is("["))
            {
                var open = Take().Offset;
                if (Current.Is("?"))
                {
                    Fail("unsupported syntax '[?'", Current.Offset);
                }

                var index = Expression();
                Expect("]");
                operand = new CelCall(open, null, "_[_]", [operand, index]);
            }
            else if (Current.Is("{"))
            {
                Fail("unsupported syntax: message construction", Current.Offset);
            }
            else
            {
                return operand;
            }
        }
    }

    private CelExpr Primary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case CelTokenKind.Int:
                Take();
                var value = (BigInteger)token.Value!;
                if (value > long.MaxValue)
                {
                    Issue(token.Offset, "invalid int literal");
                    return new CelLiteral(token.Offset, 0L);
                }

                return new CelLiteral(token.Offset, (long)value);
            case CelTokenKind.Uint or CelTokenKind.Double or CelTokenKind.String or CelTokenKind.Bytes:
                Take();
                return new CelLiteral(token.Offset, token.Value!);
            case CelTokenKind.Identifier:
                return IdentOrCall();
            case CelTokenKind.Punct when token.Text == "(":
                {
                    Take();
                    var inner = Expression();
                    Expect(")");
                    return inner;
                }

            case CelTokenKind.Punct when token.Text == "[":
                {
                    var open = Take().Offset;
                    return new CelListLiteral(open, Arguments("]"));
                }

            case CelTokenKind.Punct when token.Text == "{":
                return MapLiteral();
            case CelTokenKind.Punct when token.Text == ".":
                {
                    Take();
                    if (Current.Kind != CelTokenKind.Identifier)
                    {
                        Fail($"Syntax error: mismatched input '{Current.Display}' expecting IDENTIFIER");
                    }

                    return IdentOrCall();
                }

            default:
                Fail($"Syntax error: mismatched input '{token.Display}' expecting {PrimaryExpected}");
                return null!;
        }
    }

    private CelExpr IdentOrCall()
    {
        var token = Current;
        switch (token.Text)
        {
            case "true" or "false":
                Take();
                return new CelLiteral(token.Offset, token.Text == "true");
            case "null":
                Take();
                return new CelLiteral(token.Offset, CelNull.Instance);
        }

        var name = Identifier();
        if (!Current.Is("("))
        {
            return new CelIdent(token.Offset, name);
        }

        var open = Take().Offset;
        var args = Arguments(")");
        if (name == "has" && args.Count == 1)
        {
            if (args[0] is CelSelect { TestOnly: false } select)
            {
                return select with { TestOnly = true };
            }

            Issue(args[0].Offset, "invalid argument to has() macro");
            return new CelLiteral(open, false);
        }

        return new CelCall(open, null, name, args);
    }

    private CelExpr ReceiverCallOrMacro(int open, CelExpr target, string name, List<CelExpr> args)
    {
        CelMacro? macro = (name, args.Count) switch
        {
            ("all", 2) => CelMacro.All,
            ("exists", 2) => CelMacro.Exists,
            ("exists_one", 2) => CelMacro.ExistsOne,
            ("filter", 2) => CelMacro.Filter,
            ("map", 2 or 3) => CelMacro.Map,
            _ => null,
        };
        if (macro is null)
        {
            return new CelCall(open, target, name, args);
        }

        if (args[0] is not CelIdent variable)
        {
            Issue(args[0].Offset, "argument must be a simple name");
            return new CelLiteral(open, false);
        }

        return args.Count == 3
            ? new CelComprehension(open, macro.Value, target, variable.Name, args[1], args[2])
            : new CelComprehension(open, macro.Value, target, variable.Name, null, args[1]);
    }

    private CelMapLiteral MapLiteral()
    {
        var open = Take().Offset;
        var entries = new List<CelMapEntry>();
        while (!Current.Is("}"))
        {
            if (Current.Is("?"))
            {
                Fail("unsupported syntax '?'", Current.Offset);
            }

            var key = Expression();
            var colon = Expect(":");
            entries.Add(new CelMapEntry(colon.Offset, key, Expression()));
            if (!Current.Is(","))
            {
                break;
            }

            Take();
        }

        Expect("}");
        return new CelMapLiteral(open, entries);
    }

    private List<CelExpr> Arguments(string close)
    {
        var args = new List<CelExpr>();
        while (!Current.Is(close))
        {
            args.Add(Expression());
            if (!Current.Is(","))
            {
                break;
            }

            Take();
        }

        Expect(close);
        return args;
    }

    private string Identifier()
    {
        var token = Current;
        if (token.Kind != CelTokenKind.Identifier || token.Text is "true" or "false" or "null" or "in")
        {
            Fail($"Syntax error: mismatched input '{token.Display}' expecting IDENTIFIER");
        }

        if (Reserved.Contains(token.Text))
        {
            Fail($"reserved identifier: {token.Text}", token.Offset);
        }

        Take();
        return token.Text;
    }

    private CelToken Expect(string text)
    {
        if (!Current.Is(text))
        {
            Fail($"Syntax error: mismatched input '{Current.Display}' expecting '{text}'");
        }

        return Take();
    }

    private CelToken Take()
    {
        var token = Current;
        if (_position < _tokens.Count - 1)
        {
            _position++;
        }

        return token;
    }

    private void Issue(int offset, string message) => _issues.Add(new CelIssue(offset, message));

    private void Fail(string message, int? offset = null)
    {
        Issue(offset ?? Current.Offset, message);
        throw new SyntaxException();
    }

    /// <summary>Unwinds the parser at the first syntax error.</summary>
    private sealed class SyntaxException : Exception;
}
