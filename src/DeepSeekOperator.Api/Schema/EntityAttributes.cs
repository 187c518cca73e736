namespace DeepSeekOperator.Api.Schema;

/// <summary>Short names kubectl accepts for the resource.</summary>
/// <param name="names">The names.</param>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ShortNamesAttribute(params string[] names) : Attribute
{
    /// <summary>The names.</summary>
    public IReadOnlyList<string> Names { get; } = names;
}

/// <summary>Groups of resources this resource belongs to, as in <c>kubectl get ai</c>.</summary>
/// <param name="names">The categories.</param>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CategoriesAttribute(params string[] names) : Attribute
{
    /// <summary>The categories.</summary>
    public IReadOnlyList<string> Names { get; } = names;
}

/// <summary>A column of <c>kubectl get</c>. Columns appear in the order of their <see cref="Order"/>.</summary>
/// <param name="name">The column header.</param>
/// <param name="jsonPath">A JSONPath into the object, such as <c>.status.endpoint</c>.</param>
/// <param name="type">The OpenAPI type of the value: string, integer, number, boolean or date.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class PrinterColumnAttribute(string name, string jsonPath, string type) : Attribute
{
    /// <summary>The column header.</summary>
    public string Name { get; } = name;

    /// <summary>A JSONPath into the object.</summary>
    public string JsonPath { get; } = jsonPath;

    /// <summary>The OpenAPI type of the value.</summary>
    public string Type { get; } = type;

    /// <summary>The position of the column, from left to right.</summary>
    public int Order { get; init; }

    /// <summary>What the column shows.</summary>
    public string? Description { get; init; }

    /// <summary>0 for the default view; higher priorities appear only with <c>-o wide</c>.</summary>
    public int Priority { get; init; }
}

/// <summary>Restrictions on <c>metadata.name</c>, the only metadata field a structural schema may restrict.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class NameRestrictionAttribute : Attribute
{
    /// <summary>The pattern names must match.</summary>
    public required string Pattern { get; init; }

    /// <summary>The longest name allowed.</summary>
    public required int MaxLength { get; init; }

    /// <summary>Why names are restricted, for the schema's description.</summary>
    public required string Reason { get; init; }
}
