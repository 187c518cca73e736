namespace DeepSeekOperator.Api.Schema;

/// <summary>
/// A cross-field rule of a type, in the two forms that must agree: the CEL expression written into the CRD
/// (<c>x-kubernetes-validations</c>, evaluated by the API server) and the same check in C#, used by the
/// operator and by tools that read manifests without an API server.
/// </summary>
/// <param name="Rule">The CEL expression; <c>self</c> is the object that declares the rule.</param>
/// <param name="Message">What the user reads when the rule fails.</param>
/// <param name="Holds">The C# form of <paramref name="Rule"/>.</param>
/// <param name="FieldPath">Where the error points, relative to <c>self</c> (for example <c>.minReplicas</c>), or null for <c>self</c>.</param>
public sealed record CelRule(string Rule, string Message, Func<object, bool> Holds, string? FieldPath = null)
{
    /// <summary>Makes a rule whose C# form reads a typed object.</summary>
    /// <typeparam name="T">The type that declares the rule.</typeparam>
    public static CelRule For<T>(string rule, string message, Func<T, bool> holds, string? fieldPath = null) =>
        new(rule, message, o => holds((T)o), fieldPath);
}

/// <summary>A type that declares cross-field rules.</summary>
public interface IHasCelRules
{
    /// <summary>The rules, in the order they are written to the schema.</summary>
    static abstract IReadOnlyList<CelRule> CelRules { get; }
}
