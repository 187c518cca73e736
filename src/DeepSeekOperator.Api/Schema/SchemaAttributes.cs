namespace DeepSeekOperator.Api.Schema;

/// <summary>The smallest value a number may take (OpenAPI <c>minimum</c>).</summary>
/// <param name="value">The bound.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MinimumAttribute(double value) : Attribute
{
    /// <summary>The bound.</summary>
    public double Value { get; } = value;

    /// <summary>When true the bound itself is not allowed (OpenAPI <c>exclusiveMinimum</c>).</summary>
    public bool Exclusive { get; init; }
}

/// <summary>The largest value a number may take (OpenAPI <c>maximum</c>).</summary>
/// <param name="value">The bound.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MaximumAttribute(double value) : Attribute
{
    /// <summary>The bound.</summary>
    public double Value { get; } = value;
}

/// <summary>A regular expression a string must match (OpenAPI <c>pattern</c>; RE2 syntax, so no look-arounds).</summary>
/// <param name="regex">The expression.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class PatternAttribute(string regex) : Attribute
{
    /// <summary>The expression.</summary>
    public string Regex { get; } = regex;
}

/// <summary>Length bounds of a string (OpenAPI <c>minLength</c> / <c>maxLength</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class LengthAttribute : Attribute
{
    /// <summary>The least number of characters, or -1 for no bound.</summary>
    public int Min { get; init; } = -1;

    /// <summary>The most characters, or -1 for no bound.</summary>
    public int Max { get; init; } = -1;
}

/// <summary>The most items a list may hold (OpenAPI <c>maxItems</c>).</summary>
/// <param name="count">The bound.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class MaxItemsAttribute(int count) : Attribute
{
    /// <summary>The bound.</summary>
    public int Count { get; } = count;
}

/// <summary>
/// A list whose items are identified by the given keys (<c>x-kubernetes-list-type: map</c>), so that
/// server-side apply and strategic merge patch merge items by key instead of replacing the list.
/// </summary>
/// <param name="keys">The key fields of each item.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ListMapAttribute(params string[] keys) : Attribute
{
    /// <summary>The key fields of each item.</summary>
    public IReadOnlyList<string> Keys { get; } = keys;
}

/// <summary>
/// A string holding a Go-style duration such as <c>15s</c>, <c>1m30s</c> or <c>10m</c>. The schema gets a
/// pattern and a CEL rule for the minimum; <see cref="GoDuration"/> parses it in the operator.
/// </summary>
/// <param name="minimum">The shortest duration allowed, itself a Go duration.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DurationAttribute(string minimum) : Attribute
{
    /// <summary>The shortest duration allowed.</summary>
    public string Minimum { get; } = minimum;
}
