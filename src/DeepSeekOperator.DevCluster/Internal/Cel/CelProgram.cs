using System.Globalization;
using System.Text;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// A checked CEL expression, ready to evaluate. <see cref="Compile"/> parses and type-checks; <see cref="Evaluate"/>
/// interprets the tree with CEL's semantics (errors are values, <c>&amp;&amp;</c> and <c>||</c> are commutative and absorb them).
/// </summary>
internal sealed class CelProgram
{
    private readonly CelExpr _expr;

    private CelProgram(string source, CelExpr expr, CelType resultType, bool usesOldSelf)
    {
        Source = source;
        _expr = expr;
        ResultType = resultType;
        UsesOldSelf = usesOldSelf;
    }

    public string Source { get; }

    /// <summary>The type the checker inferred for the whole expression.</summary>
    public CelType ResultType { get; }

    /// <summary>True when the expression refers to <c>oldSelf</c>, which makes a validation rule a transition rule.</summary>
    public bool UsesOldSelf { get; }

    /// <summary>
    /// Parses and checks <paramref name="source"/> with the given variables; on failure returns null and
    /// <paramref name="error"/> holds the issues formatted as cel-go does (<c>ERROR: &lt;input&gt;:1:5: …</c> with the source line).
    /// </summary>
    public static CelProgram? Compile(string source, IReadOnlyDictionary<string, CelType> variables, out string? error)
    {
        var issues = new List<CelIssue>();
        var expr = CelParser.Parse(source, issues);
        CelType type = CelType.Error;
        var usesOldSelf = false;
        if (expr is not null)
        {
            type = CelChecker.Check(expr, variables, issues, out usesOldSelf);
        }

        if (issues.Count > 0 || expr is null)
        {
            error = Format(source, issues);
            return null;
        }

        error = null;
        return new CelProgram(source, expr, type, usesOldSelf);
    }

    /// <summary>Evaluates with the given variable values; the result is a CEL value or a <see cref="CelError"/>.</summary>
    public object Evaluate(IReadOnlyDictionary<string, object> variables) => new Interpreter(variables).Eval(_expr, null);

    /// <summary>Formats issues as cel-go's <c>Issues.String()</c>: each error with its location, the line and a caret.</summary>
    public static string Format(string source, IEnumerable<CelIssue> issues)
    {
        var lines = source.Split('\n');
        var text = new StringBuilder();
        foreach (var issue in issues.OrderBy(i => i.Offset))
        {
            var (line, column) = Location(source, issue.Offset);
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(CultureInfo.InvariantCulture, $"ERROR: <input>:{line}:{column + 1}: {issue.Message}");
            var snippet = lines[line - 1].TrimEnd('\r').Replace('\t', ' ');
            text.Append("\n | ").Append(snippet).Append("\n | ");
            var runes = snippet.EnumerateRunes().ToList();
            for (var k = 0; k < column && k < runes.Count; k++)
            {
                text.Append(runes[k].Utf8SequenceLength > 1 ? '\uff0e' : '.');
            }

            text.Append(column < runes.Count && runes[column].Utf8SequenceLength > 1 ? '\uff3e' : '^');
        }

        return text.ToString();
    }

    private static (int Line, int Column) Location(string source, int offset)
    {
        var line = 1;
        var lineStart = 0;
        for (var k = 0; k < offset && k < source.Length; k++)
        {
            if (source[k] == '\n')
            {
                line++;
                lineStart = k + 1;
            }
        }

        var column = CelValues.RuneCount(source[lineStart..Math.Min(offset, source.Length)]);
        return (line, column);
    }

    /// <summary>A variable binding of a comprehension, chained to the enclosing ones.</summary>
    private sealed record Scope(string Name, object Value, Scope? Parent);

    private sealed class Interpreter(IReadOnlyDictionary<string, object> variables)
    {
        private static readonly CelError NoSuchOverload = new(CelLibrary.NoSuchOverload);

        public object Eval(CelExpr expr, Scope? scope) => expr switch
        {
            CelLiteral literal => literal.Value,
            CelIdent ident => Lookup(ident.Name, scope),
            CelSelect select => Select(select, scope),
            CelCall call => Call(call, scope),
            CelListLiteral list => List(list, scope),
            CelMapLiteral map => Map(map, scope),
            CelComprehension comprehension => Comprehension(comprehension, scope),
            _ => throw new InvalidOperationException(expr.GetType().Name),
        };

        private object Lookup(string name, Scope? scope)
        {
            for (var s = scope; s is not null; s = s.Parent)
            {
                if (s.Name == name)
                {
                    return s.Value;
                }
            }

            if (variables.TryGetValue(name, out var value))
            {
                return value;
            }

            return CelLibrary.TypeNames.ContainsKey(name) ? new CelTypeValue(name) : new CelError($"undeclared reference to '{name}'");
        }

        private object Select(CelSelect select, Scope? scope)
        {
            var operand = Eval(select.Operand, scope);
            if (operand is CelError)
            {
                return operand;
            }

            if (operand is not CelMap map)
            {
                return NoSuchOverload;
            }

            var key = map.IsObject ? CelSchema.PropertyName(select.Field) : select.Field;
            if (select.TestOnly)
            {
                return map.TryGet(key, out _);
            }

            return map.TryGet(key, out var value) ? value : new CelError($"no such key: {select.Field}");
        }

        private object Call(CelCall call, Scope? scope)
        {
            switch (call.Function)
            {
                case "_&&_":
                    return Logical(call, scope, absorbing: false);
                case "_||_":
                    return Logical(call, scope, absorbing: true);
                case "_?_:_":
                    var condition = Eval(call.Args[0], scope);
                    return condition switch
                    {
                        bool b => Eval(call.Args[b ? 1 : 2], scope),
                        CelError => condition,
                        _ => NoSuchOverload,
                    };
            }

            var args = new object[call.Args.Count + (call.Target is null ? 0 : 1)];
            var k = 0;
            if (call.Target is not null)
            {
                args[k++] = Eval(call.Target, scope);
            }

            foreach (var arg in call.Args)
            {
                args[k++] = Eval(arg, scope);
            }

            foreach (var arg in args)
            {
                if (arg is CelError)
                {
                    return arg;
                }
            }

            foreach (var overload in CelLibrary.Overloads(call.Function) ?? [])
            {
                if (overload.Receiver == (call.Target is not null) && overload.Params.Count == args.Length && Accepts(overload, args))
                {
                    return overload.Invoke(args);
                }
            }

            return NoSuchOverload;
        }

        private static bool Accepts(CelOverload overload, object[] args)
        {
            for (var i = 0; i < args.Length; i++)
            {
                if (!CelLibrary.Accepts(overload.Params[i], args[i]))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// <c>&amp;&amp;</c> (absorbing false) and <c>||</c> (absorbing true): the absorbing value wins over an error on either side.
        /// </summary>
        private object Logical(CelCall call, Scope? scope, bool absorbing)
        {
            var left = Eval(call.Args[0], scope);
            if (left is bool l && l == absorbing)
            {
                return absorbing;
            }

            var right = Eval(call.Args[1], scope);
            if (right is bool r && r == absorbing)
            {
                return absorbing;
            }

            if (left is bool && right is bool)
            {
                return !absorbing;
            }

            return left is CelError ? left : right is CelError ? right : NoSuchOverload;
        }

        private object List(CelListLiteral list, Scope? scope)
        {
            var items = new List<object>(list.Elements.Count);
            foreach (var element in list.Elements)
            {
                var value = Eval(element, scope);
                if (value is CelError)
                {
                    return value;
                }

                items.Add(value);
            }

            return new CelList(items);
        }

        private object Map(CelMapLiteral map, Scope? scope)
        {
            var entries = new List<KeyValuePair<object, object>>(map.Entries.Count);
            foreach (var entry in map.Entries)
            {
                var key = Eval(entry.Key, scope);
                if (key is CelError)
                {
                    return key;
                }

                var value = Eval(entry.Value, scope);
                if (value is CelError)
                {
                    return value;
                }

                if (key is not (long or ulong or string or bool))
                {
                    return new CelError($"unsupported key type: {CelValues.TypeName(key)}");
                }

                if (entries.Any(e => CelValues.Equal(e.Key, key)))
                {
                    return new CelError($"Failed with repeated key: {CelLibrary.Format(key)}");
                }

                entries.Add(new KeyValuePair<object, object>(key, value));
            }

            return new CelMap(entries);
        }

        private object Comprehension(CelComprehension comprehension, Scope? scope)
        {
            var range = Eval(comprehension.Range, scope);
            IEnumerable<object> items;
            switch (range)
            {
                case CelError:
                    return range;
                case CelList list:
                    items = list.Items;
                    break;
                case CelMap map:
                    items = map.Keys;
                    break;
                default:
                    return NoSuchOverload;
            }

            var results = new List<object>();
            CelError? error = null;
            var count = 0;
            foreach (var item in items)
            {
                var inner = new Scope(comprehension.Variable, item, scope);
                if (comprehension.Filter is not null)
                {
                    var keep = Eval(comprehension.Filter, inner);
                    if (keep is not bool)
                    {
                        return keep as CelError ?? NoSuchOverload;
                    }

                    if (!(bool)keep)
                    {
                        continue;
                    }
                }

                var step = Eval(comprehension.Step, inner);
                switch (comprehension.Macro)
                {
                    case CelMacro.Map:
                        if (step is CelError)
                        {
                            return step;
                        }

                        results.Add(step);
                        break;
                    case CelMacro.Filter:
                        if (step is not bool)
                        {
                            return step as CelError ?? NoSuchOverload;
                        }

                        if ((bool)step)
                        {
                            results.Add(item);
                        }

                        break;
                    case CelMacro.ExistsOne:
                        if (step is not bool)
                        {
                            return step as CelError ?? NoSuchOverload;
                        }

                        count += (bool)step ? 1 : 0;
                        break;
                    default:
                        var absorbing = comprehension.Macro == CelMacro.Exists;
                        if (step is bool b)
                        {
                            if (b == absorbing)
                            {
                                return absorbing;
                            }
                        }
                        else
                        {
                            error ??= step as CelError ?? NoSuchOverload;
                        }

                        break;
                }
            }

            return comprehension.Macro switch
            {
                CelMacro.Map or CelMacro.Filter => new CelList(results),
                CelMacro.ExistsOne => count == 1,
                CelMacro.Exists => (object?)error ?? false,
                _ => (object?)error ?? true,
            };
        }
    }
}
