using System.Collections.Immutable;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>
/// The type checker: resolves every name and call against the declared variables and the function library, infers types
/// from the schema, and reports what cel-go's checker and Kubernetes' AST validators report, with the same messages.
/// </summary>
internal sealed class CelChecker
{
    private readonly List<CelIssue> _issues;

    private CelChecker(List<CelIssue> issues) => _issues = issues;

    /// <summary>Whether the checked expression refers to <c>oldSelf</c>.</summary>
    public bool UsesOldSelf { get; private set; }

    /// <summary>Checks <paramref name="expr"/> with the given variables; returns its type, adding problems to <paramref name="issues"/>.</summary>
    public static CelType Check(CelExpr expr, IReadOnlyDictionary<string, CelType> variables, List<CelIssue> issues, out bool usesOldSelf)
    {
        var checker = new CelChecker(issues);
        var type = checker.Visit(expr, variables.ToImmutableDictionary(StringComparer.Ordinal));
        usesOldSelf = checker.UsesOldSelf;
        return type;
    }

    private CelType Visit(CelExpr expr, ImmutableDictionary<string, CelType> scope) => expr switch
    {
        CelLiteral literal => LiteralType(literal.Value),
        CelIdent ident => Ident(ident, scope),
        CelSelect select => Select(select, scope),
        CelCall call => Call(call, scope),
        CelListLiteral list => List(list, scope),
        CelMapLiteral map => Map(map, scope),
        CelComprehension comprehension => Comprehension(comprehension, scope),
        _ => throw new InvalidOperationException(expr.GetType().Name),
    };

    private static CelType LiteralType(object value) => value switch
    {
        long => CelType.Int,
        ulong => CelType.Uint,
        double => CelType.Double,
        bool => CelType.Bool,
        string => CelType.String,
        CelBytes => CelType.Bytes,
        _ => CelType.Null,
    };

    private CelType Ident(CelIdent ident, ImmutableDictionary<string, CelType> scope)
    {
        if (scope.TryGetValue(ident.Name, out var type))
        {
            UsesOldSelf |= ident.Name == "oldSelf" && !IsShadowed(scope);
            return type;
        }

        if (CelLibrary.TypeNames.TryGetValue(ident.Name, out var named))
        {
            return CelType.TypeOf(named);
        }

        return Error(ident.Offset, $"undeclared reference to '{ident.Name}' (in container '')");
    }

    // Comprehension variables are recorded with a marker so that a loop variable named oldSelf is not the old value.
    private static bool IsShadowed(ImmutableDictionary<string, CelType> scope) => scope.ContainsKey("@oldSelf-shadowed");

    private CelType Select(CelSelect select, ImmutableDictionary<string, CelType> scope)
    {
        var operand = Visit(select.Operand, scope);
        CelType result;
        switch (operand.Kind)
        {
            case CelKind.Dyn or CelKind.Error:
                result = CelType.Dyn;
                break;
            case CelKind.Map:
                result = operand.Elem!;
                break;
            case CelKind.Object:
                var field = operand.Field(select.Field);
                if (field is null)
                {
                    return Error(select.Offset, $"undefined field '{select.Field}'");
                }

                result = field;
                break;
            default:
                return Error(select.Offset, $"type '{operand}' does not support field selection");
        }

        return select.TestOnly ? CelType.Bool : result;
    }

    private CelType Call(CelCall call, ImmutableDictionary<string, CelType> scope)
    {
        var argTypes = new List<CelType>();
        if (call.Target is not null)
        {
            argTypes.Add(Visit(call.Target, scope));
        }

        argTypes.AddRange(call.Args.Select(a => Visit(a, scope)));
        IReadOnlyList<CelOverload>? overloads = call.Function switch
        {
            "_&&_" or "_||_" => [new CelOverload(call.Function, false, [CelType.Bool, CelType.Bool], CelType.Bool, _ => false)],
            "_?_:_" => [new CelOverload(call.Function, false, [CelType.Bool, CelType.A, CelType.A], CelType.A, _ => false)],
            _ => CelLibrary.Overloads(call.Function),
        };
        if (overloads is null)
        {
            return Error(call.Offset, $"undeclared reference to '{call.Function}' (in container '')");
        }

        if (argTypes.Any(t => t.Kind == CelKind.Error))
        {
            return CelType.Error;
        }

        ValidateLiteralArguments(call);

        CelType? result = null;
        foreach (var overload in overloads)
        {
            if (overload.Receiver != (call.Target is not null) || overload.Params.Count != argTypes.Count)
            {
                continue;
            }

            var bindings = new Dictionary<string, CelType>(StringComparer.Ordinal);
            var matches = true;
            for (var i = 0; i < argTypes.Count && matches; i++)
            {
                matches = IsAssignable(overload.Params[i], argTypes[i], bindings);
            }

            if (matches)
            {
                var resolved = Substitute(overload.Result, bindings);
                result = result is null || result.Equals(resolved) ? resolved : CelType.Dyn;
            }
        }

        if (result is null)
        {
            var shown = call.Target is null
                ? "(" + string.Join(", ", argTypes) + ")"
                : argTypes[0] + ".(" + string.Join(", ", argTypes.Skip(1)) + ")";
            return Error(call.Offset, $"found no matching overload for '{call.Function}' applied to '{shown}'");
        }

        return result;
    }

    /// <summary>The checks of Kubernetes' AST validators: literal durations, timestamps and regular expressions must be valid.</summary>
    private void ValidateLiteralArguments(CelCall call)
    {
        switch (call.Function)
        {
            case "duration" when call.Target is null && call.Args is [CelLiteral { Value: string text } literal] && CelTime.ParseDuration(text) is null:
                _issues.Add(new CelIssue(literal.Offset, "invalid duration argument"));
                break;
            case "timestamp" when call.Target is null && call.Args is [CelLiteral { Value: string text } literal] && CelTime.ParseTimestamp(text) is null:
                _issues.Add(new CelIssue(literal.Offset, "invalid timestamp argument"));
                break;
            case "matches" when call.Args is [.., CelLiteral { Value: string pattern } literal] && CelRegex.Get(pattern, out _) is null:
                _issues.Add(new CelIssue(literal.Offset, "invalid matches argument"));
                break;
            case "find" or "findAll" when call.Args is [CelLiteral { Value: string pattern } literal, ..] && CelRegex.Get(pattern, out var error) is null:
                _issues.Add(new CelIssue(literal.Offset, error!));
                break;
        }
    }

    private CelType List(CelListLiteral list, ImmutableDictionary<string, CelType> scope)
    {
        CelType? elem = null;
        var failed = false;
        foreach (var element in list.Elements)
        {
            var type = Visit(element, scope);
            failed |= type.Kind == CelKind.Error;
            if (elem is null)
            {
                elem = type;
            }
            else if (!failed && !elem.Equals(type))
            {
                // Kubernetes requires homogeneous aggregate literals.
                return Error(element.Offset, $"expected type '{elem}' but found '{type}'");
            }
        }

        return failed ? CelType.Error : CelType.ListOf(elem ?? CelType.Dyn);
    }

    private CelType Map(CelMapLiteral map, ImmutableDictionary<string, CelType> scope)
    {
        CelType? key = null, value = null;
        var failed = false;
        foreach (var entry in map.Entries)
        {
            var k = Visit(entry.Key, scope);
            var v = Visit(entry.Value, scope);
            failed |= k.Kind == CelKind.Error || v.Kind == CelKind.Error;
            if (failed)
            {
                continue;
            }

            if (k.Kind is not (CelKind.Int or CelKind.Uint or CelKind.String or CelKind.Bool or CelKind.Dyn))
            {
                return Error(entry.Key.Offset, $"unsupported map key type: {k}");
            }

            if (key is null || value is null)
            {
                (key, value) = (k, v);
                continue;
            }

            if (!key.Equals(k))
            {
                return Error(entry.Key.Offset, $"expected type '{key}' but found '{k}'");
            }

            if (!value.Equals(v))
            {
                return Error(entry.Value.Offset, $"expected type '{value}' but found '{v}'");
            }
        }

        return failed ? CelType.Error : CelType.MapOf(key ?? CelType.Dyn, value ?? CelType.Dyn);
    }

    private CelType Comprehension(CelComprehension comprehension, ImmutableDictionary<string, CelType> scope)
    {
        var range = Visit(comprehension.Range, scope);
        CelType variable;
        switch (range.Kind)
        {
            case CelKind.Error:
                return CelType.Error;
            case CelKind.List:
                variable = range.Elem!;
                break;
            case CelKind.Map:
                variable = range.Key!;
                break;
            case CelKind.Dyn:
                variable = CelType.Dyn;
                break;
            default:
                return Error(comprehension.Range.Offset, $"expression of type '{range}' cannot be range of a comprehension (must be list, map, or dynamic)");
        }

        var inner = scope.SetItem(comprehension.Variable, variable);
        if (comprehension.Variable == "oldSelf")
        {
            inner = inner.SetItem("@oldSelf-shadowed", CelType.Dyn);
        }

        if (comprehension.Filter is not null && !RequireBool(comprehension.Filter, inner, "_?_:_"))
        {
            return CelType.Error;
        }

        if (comprehension.Macro == CelMacro.Map)
        {
            var step = Visit(comprehension.Step, inner);
            return step.Kind == CelKind.Error ? CelType.Error : CelType.ListOf(step);
        }

        var combiner = comprehension.Macro switch
        {
            CelMacro.All => "_&&_",
            CelMacro.Exists => "_||_",
            _ => "_?_:_",
        };
        if (!RequireBool(comprehension.Step, inner, combiner))
        {
            return CelType.Error;
        }

        return comprehension.Macro == CelMacro.Filter ? CelType.ListOf(variable) : CelType.Bool;
    }

    private bool RequireBool(CelExpr expr, ImmutableDictionary<string, CelType> scope, string combiner)
    {
        var type = Visit(expr, scope);
        if (type.Kind == CelKind.Error)
        {
            return false;
        }

        if (type.Kind is CelKind.Bool or CelKind.Dyn)
        {
            return true;
        }

        var shown = combiner == "_?_:_" ? $"({type}, int, int)" : $"(bool, {type})";
        Error(expr.Offset, $"found no matching overload for '{combiner}' applied to '{shown}'");
        return false;
    }

    /// <summary>Whether an argument of type <paramref name="arg"/> can be passed as <paramref name="param"/>, binding type parameters.</summary>
    private static bool IsAssignable(CelType param, CelType arg, Dictionary<string, CelType> bindings)
    {
        if (param.Kind == CelKind.Param)
        {
            if (bindings.TryGetValue(param.Name!, out var bound))
            {
                if (IsAssignable(bound, arg, bindings))
                {
                    return true;
                }

                // A parameter first bound from dyn takes the more precise type.
                if (bound.Kind == CelKind.Dyn)
                {
                    bindings[param.Name!] = arg;
                    return true;
                }

                return false;
            }

            bindings[param.Name!] = arg;
            return true;
        }

        if (arg.Kind is CelKind.Dyn or CelKind.Error || param.Kind == CelKind.Dyn)
        {
            return true;
        }

        if (arg.Kind == CelKind.Null)
        {
            return param.Kind is CelKind.Null or CelKind.Object;
        }

        if (param.Kind != arg.Kind)
        {
            return false;
        }

        return param.Kind switch
        {
            CelKind.List => IsAssignable(param.Elem!, arg.Elem!, bindings),
            CelKind.Map => IsAssignable(param.Key!, arg.Key!, bindings) && IsAssignable(param.Elem!, arg.Elem!, bindings),
            CelKind.Type => param.Elem is null || arg.Elem is null || IsAssignable(param.Elem, arg.Elem, bindings),
            _ => true,
        };
    }

    private static CelType Substitute(CelType type, Dictionary<string, CelType> bindings) => type.Kind switch
    {
        CelKind.Param => bindings.GetValueOrDefault(type.Name!) ?? CelType.Dyn,
        CelKind.List => CelType.ListOf(Substitute(type.Elem!, bindings)),
        CelKind.Map => CelType.MapOf(Substitute(type.Key!, bindings), Substitute(type.Elem!, bindings)),
        CelKind.Type when type.Elem is not null => CelType.TypeOf(Substitute(type.Elem, bindings)),
        _ => type,
    };

    private CelType Error(int offset, string message)
    {
        _issues.Add(new CelIssue(offset, message));
        return CelType.Error;
    }
}
