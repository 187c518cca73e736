using System.Reflection;
using DeepSeekOperator.Tests;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace DeepSeekOperator.Serving.Tests.Tensors;

/// <summary>
/// Every TorchSharp <c>Scalar</c> the model and serving code hands to a native call is held alive for the whole call.
/// </summary>
/// <remarks>
/// A number converted implicitly to a Scalar (<c>t * 0.5</c>, <c>t.mul_(scale)</c>, <c>masked_fill(m, -inf)</c>,
/// <c>arange(n)</c>) makes a temporary that nothing references once its handle has been read; under load a garbage
/// collection can finalize it, freeing the native scalar while libtorch still reads it (seen as a failed request in the
/// 64-client load test). The code must instead pass a field, or a local declared with <c>using</c> (its disposal at the
/// end of the scope keeps it reachable until then).
/// </remarks>
public sealed class ScalarLifetimeTests
{
    private static readonly string[] SourceDirectories = ["src/DeepSeekOperator.Moe", "src/DeepSeekOperator.Serving"];

    [Fact]
    public void ModelAndServingCode_PassOnlyHeldScalarsToTorchSharp()
    {
        var compilation = Compile();
        var scalar = compilation.GetTypeByMetadataName("TorchSharp.Scalar");
        Assert.NotNull(scalar);

        var violations = new List<string>();
        foreach (var tree in compilation.SyntaxTrees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var expression in tree.GetRoot().DescendantNodes().OfType<ExpressionSyntax>())
            {
                if (Violation(model, expression, scalar) is { } reason)
                {
                    var line = tree.GetLineSpan(expression.Span).StartLinePosition.Line + 1;
                    violations.Add($"{Path.GetRelativePath(Repository.Root, tree.FilePath)}:{line}: `{expression}` {reason}");
                }
            }
        }

        Assert.True(violations.Count == 0, $"{violations.Count} Scalar(s) not held during the native call:\n{string.Join('\n', violations)}");
    }

    [Fact]
    public void TheCheck_FindsImplicitAndTemporaryScalars()
    {
        const string source = """
            using TorchSharp;
            using static TorchSharp.torch;
            class Sample
            {
                private readonly Scalar _held = 2.0.ToScalar();
                void M(Tensor t, double x)
                {
                    var a = t.mul(0.5);
                    var b = t.mul(x);
                    var c = t.mul(3.ToScalar());
                    var loose = 4.ToScalar();
                    var d = t.mul(loose);
                    using var kept = 5.ToScalar();
                    var e = t.mul(kept);
                    var f = t.mul(_held);
                    var g = t + t;
                    var h = t.add(t, kept);
                    var i = arange(3, device: CPU);
                }
            }
            """;
        var compilation = Compile(CSharpSyntaxTree.ParseText(source, path: "Sample.cs"));
        var scalar = compilation.GetTypeByMetadataName("TorchSharp.Scalar")!;
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == "Sample.cs");
        var model = compilation.GetSemanticModel(tree);
        var flagged = tree.GetRoot().DescendantNodes().OfType<ExpressionSyntax>()
            .Where(e => Violation(model, e, scalar) is not null)
            .Select(e => e.ToString())
            .ToArray();
        Assert.Equal(["0.5", "x", "3.ToScalar()", "loose", "t + t", "arange(3, device: CPU)", "3"], flagged);
    }

    /// <summary>Why <paramref name="expression"/> hands libtorch a Scalar nothing holds, or null when it does not.</summary>
    private static string? Violation(SemanticModel model, ExpressionSyntax expression, INamedTypeSymbol scalar)
    {
        if (expression.Parent is MemberAccessExpressionSyntax access && access.Name == expression)
        {
            return null;
        }

        if (expression is InvocationExpressionSyntax or BinaryExpressionSyntax or CastExpressionSyntax or AssignmentExpressionSyntax
            && model.GetSymbolInfo(expression).Symbol is IMethodSymbol { ContainingAssembly.Name: "TorchSharp" } method
            && UnheldScalarMembers.Value.Contains(Key(method)))
        {
            return $"calls {method.ContainingType.Name}.{method.Name}, which makes a Scalar it does not hold";
        }

        var type = model.GetTypeInfo(expression);
        if (!SymbolEqualityComparer.Default.Equals(type.ConvertedType, scalar))
        {
            return null;
        }

        if (!SymbolEqualityComparer.Default.Equals(type.Type, scalar))
        {
            return model.GetConversion(expression).IsUserDefined
                ? $"converts a {type.Type?.ToDisplayString() ?? "value"} to a temporary Scalar"
                : null;
        }

        // An expression of type Scalar: only where it is consumed (an argument or an operand) does it matter.
        if (expression.Parent is not (ArgumentSyntax or BinaryExpressionSyntax))
        {
            return null;
        }

        return model.GetSymbolInfo(expression).Symbol switch
        {
            IFieldSymbol => null,
            ILocalSymbol local when IsUsingLocal(local) => null,
            ILocalSymbol => "is a local not declared with `using`, so it may be collected during the call",
            _ => "is a temporary Scalar",
        };
    }

    /// <summary>
    /// TorchSharp's methods that make a Scalar from a number (an implicit conversion, <c>ToScalar</c>) without a
    /// <c>finally</c> to dispose of it, directly or through another such method: <c>Tensor.add(Tensor)</c> passes an
    /// implicit alpha of 1, <c>tensor * 0.5</c> converts its number, <c>arange(n)</c> its bounds.
    /// </summary>
    private static readonly Lazy<HashSet<string>> UnheldScalarMembers = new(() =>
    {
        var assembly = typeof(TorchSharp.Scalar).Assembly;
        var opCodes = typeof(System.Reflection.Emit.OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (System.Reflection.Emit.OpCode)f.GetValue(null)!)
            .ToDictionary(o => o.Value);
        var calls = new Dictionary<MethodBase, (bool Converts, List<MethodBase> Callees)>();
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = [.. e.Types.OfType<Type>()];
        }

        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var method in types.SelectMany(t => t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all))))
        {
            var body = method.GetMethodBody();
            if (body?.GetILAsByteArray() is not { } il || body.ExceptionHandlingClauses.Count > 0)
            {
                continue;
            }

            var converts = false;
            var callees = new List<MethodBase>();
            foreach (var token in MethodTokens(il, opCodes))
            {
                MethodBase? callee;
                try
                {
                    callee = method.Module.ResolveMethod(token, method.DeclaringType?.GetGenericArguments(), method.IsGenericMethod ? method.GetGenericArguments() : null);
                }
                catch (ArgumentException)
                {
                    continue;
                }

                if (callee is MethodInfo { Name: "op_Implicit" or "ToScalar" } info && info.ReturnType == typeof(TorchSharp.Scalar))
                {
                    converts = true;
                }
                else if (callee?.DeclaringType?.Assembly == assembly)
                {
                    callees.Add(callee);
                }
            }

            calls[method] = (converts, callees);
        }

        var unheld = calls.Where(c => c.Value.Converts).Select(c => c.Key).ToHashSet();
        for (var grown = true; grown;)
        {
            grown = false;
            foreach (var (method, (_, callees)) in calls)
            {
                if (!unheld.Contains(method) && callees.Any(unheld.Contains))
                {
                    grown = unheld.Add(method);
                }
            }
        }

        return unheld.Where(m => m.Name != "op_Implicit").Select(Key).ToHashSet();
    });

    /// <summary>The metadata tokens of the methods <paramref name="il"/> calls.</summary>
    private static IEnumerable<int> MethodTokens(byte[] il, Dictionary<short, System.Reflection.Emit.OpCode> opCodes)
    {
        for (var i = 0; i < il.Length;)
        {
            var code = opCodes[il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i]];
            i += code.Size;
            if (code.OperandType == System.Reflection.Emit.OperandType.InlineMethod)
            {
                yield return BitConverter.ToInt32(il, i);
            }

            i += code.OperandType switch
            {
                System.Reflection.Emit.OperandType.InlineNone => 0,
                System.Reflection.Emit.OperandType.ShortInlineBrTarget or System.Reflection.Emit.OperandType.ShortInlineI or System.Reflection.Emit.OperandType.ShortInlineVar => 1,
                System.Reflection.Emit.OperandType.InlineVar => 2,
                System.Reflection.Emit.OperandType.InlineI8 or System.Reflection.Emit.OperandType.InlineR => 8,
                System.Reflection.Emit.OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, i)),
                _ => 4,
            };
        }
    }

    private static string Key(MethodBase method) =>
        $"{method.DeclaringType?.FullName}.{method.Name}({string.Join(',', method.GetParameters().Select(p => p.ParameterType.Name))})";

    private static string Key(IMethodSymbol method)
    {
        var definition = method.ReducedFrom ?? method.OriginalDefinition;
        return $"{FullName(definition.ContainingType)}.{definition.MetadataName}({string.Join(',', definition.Parameters.Select(p => TypeName(p.Type)))})";

        static string FullName(INamedTypeSymbol type) => type.ContainingType is { } outer
            ? $"{FullName(outer)}+{type.MetadataName}"
            : $"{type.ContainingNamespace.ToDisplayString()}.{type.MetadataName}";

        static string TypeName(ITypeSymbol type) => type switch
        {
            IArrayTypeSymbol array => TypeName(array.ElementType) + "[]",
            _ => type.MetadataName,
        };
    }

    private static bool IsUsingLocal(ILocalSymbol local) =>
        local.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).Any(s =>
            s.Parent?.Parent is LocalDeclarationStatementSyntax { UsingKeyword.RawKind: not 0 } or UsingStatementSyntax);

    private static CSharpCompilation Compile(params SyntaxTree[] extra)
    {
        var options = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = SourceDirectories
            .SelectMany(d => Directory.EnumerateFiles(Repository.PathOf(d), "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"))
            .Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), options, f))
            .Concat(extra.Select(t => t.WithRootAndOptions(t.GetRoot(), options)));

        // The built assemblies beside this test (TorchSharp, the projects, their packages) and the framework.
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
            .DistinctBy(Path.GetFileName)
            .Where(IsManagedAssembly)
            .Select(p => MetadataReference.CreateFromFile(p));
        return CSharpCompilation.Create("ScalarCheck", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
    }

    private static bool IsManagedAssembly(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException)
        {
            return false;
        }
    }
}
