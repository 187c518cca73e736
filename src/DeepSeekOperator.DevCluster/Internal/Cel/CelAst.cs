namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>A node of a parsed CEL expression; <see cref="Offset"/> is the character the node's errors point at, as cel-go reports them.</summary>
internal abstract record CelExpr(int Offset);

/// <summary>A literal: <see cref="long"/>, <see cref="ulong"/>, <see cref="double"/>, <see cref="string"/>, <see cref="CelBytes"/>, <see cref="bool"/> or <see cref="CelNull"/>.</summary>
internal sealed record CelLiteral(int Offset, object Value) : CelExpr(Offset);

/// <summary>A bare name: a variable, a comprehension variable or a type name such as <c>int</c>.</summary>
internal sealed record CelIdent(int Offset, string Name) : CelExpr(Offset);

/// <summary>Field selection <c>operand.field</c>; with <see cref="TestOnly"/> it is the presence test of <c>has(operand.field)</c>.</summary>
internal sealed record CelSelect(int Offset, CelExpr Operand, string Field, bool TestOnly) : CelExpr(Offset);

/// <summary>
/// A function call, global (<see cref="Target"/> null) or receiver-style; operators are calls too, named as cel-go names them
/// (<c>_+_</c>, <c>_[_]</c>, <c>!_</c>, <c>@in</c>, <c>_?_:_</c>, …).
/// </summary>
internal sealed record CelCall(int Offset, CelExpr? Target, string Function, IReadOnlyList<CelExpr> Args) : CelExpr(Offset);

/// <summary>A list literal <c>[a, b]</c>.</summary>
internal sealed record CelListLiteral(int Offset, IReadOnlyList<CelExpr> Elements) : CelExpr(Offset);

/// <summary>A map literal <c>{k: v}</c>.</summary>
internal sealed record CelMapLiteral(int Offset, IReadOnlyList<CelMapEntry> Entries) : CelExpr(Offset);

/// <summary>One <c>key: value</c> entry of a map literal.</summary>
internal sealed record CelMapEntry(int Offset, CelExpr Key, CelExpr Value);

/// <summary>The comprehension macros CEL expands.</summary>
internal enum CelMacro
{
    All,
    Exists,
    ExistsOne,
    Map,
    Filter,
}

/// <summary>
/// An expanded comprehension macro: <c>range.all(v, step)</c>, <c>exists</c>, <c>exists_one</c>, <c>filter</c>,
/// and <c>map</c> with its optional <see cref="Filter"/> (the three-argument form).
/// </summary>
internal sealed record CelComprehension(int Offset, CelMacro Macro, CelExpr Range, string Variable, CelExpr? Filter, CelExpr Step) : CelExpr(Offset);

/// <summary>A problem found while compiling, at a character offset of the source.</summary>
internal sealed record CelIssue(int Offset, string Message);

/// <summary>The CEL <c>null</c> value.</summary>
internal sealed record CelNull
{
    /// <summary>The only instance.</summary>
    public static readonly CelNull Instance = new();

    private CelNull()
    {
    }
}

/// <summary>A CEL <c>bytes</c> value, compared by content.</summary>
internal sealed record CelBytes(byte[] Value)
{
    /// <inheritdoc/>
    public bool Equals(CelBytes? other) => other is not null && Value.AsSpan().SequenceEqual(other.Value);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Value);
        return hash.ToHashCode();
    }
}
