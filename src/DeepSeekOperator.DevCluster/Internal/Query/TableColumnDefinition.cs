using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Query;

/// <summary>
/// A column of a <c>meta.k8s.io/v1</c> Table: <paramref name="Type"/> is an OpenAPI type (<c>string</c>, <c>integer</c>,
/// <c>number</c>, <c>boolean</c>, <c>date</c>), <paramref name="Format"/> a hint such as <c>name</c>, and a column with
/// <paramref name="Priority"/> above 0 is one kubectl shows only with <c>-o wide</c>.
/// </summary>
internal sealed record TableColumnDefinition(string Name, string Type, string Format, string Description, int Priority)
{
    /// <summary>The column as the Table's <c>columnDefinitions</c> carry it (every field present, as Kubernetes writes them).</summary>
    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["type"] = Type,
        ["format"] = Format,
        ["description"] = Description,
        ["priority"] = Priority,
    };
}

/// <summary>What each row's <c>object</c> holds: the <c>includeObject</c> query parameter of a Table request.</summary>
internal enum TableIncludeObject
{
    /// <summary><c>Metadata</c>, the default: a <c>PartialObjectMetadata</c> with the object's metadata.</summary>
    Metadata,

    /// <summary><c>Object</c>: the whole object.</summary>
    Object,

    /// <summary><c>None</c>: <c>null</c>.</summary>
    None,
}

/// <summary>
/// How one Table response is built. <see cref="NoHeaders"/> drops the column definitions (the server sets it for watch
/// events after the first); <see cref="GroupVersion"/> is the Table's own group/version from the Accept header; the list
/// metadata is the list's, or for a single object its <c>resourceVersion</c>.
/// </summary>
internal sealed record TableRequest
{
    /// <summary>The time ages are computed against.</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>What each row's <c>object</c> holds.</summary>
    public TableIncludeObject IncludeObject { get; init; } = TableIncludeObject.Metadata;

    /// <summary>Leave <c>columnDefinitions</c> null.</summary>
    public bool NoHeaders { get; init; }

    /// <summary><c>meta.k8s.io/v1</c> or <c>meta.k8s.io/v1beta1</c>.</summary>
    public string GroupVersion { get; init; } = "meta.k8s.io/v1";

    /// <summary>The list's (or object's) <c>resourceVersion</c>.</summary>
    public string? ResourceVersion { get; init; }

    /// <summary>The list's <c>continue</c> token.</summary>
    public string? Continue { get; init; }

    /// <summary>The list's <c>remainingItemCount</c>.</summary>
    public long? RemainingItemCount { get; init; }

    /// <summary>
    /// Reads the <c>includeObject</c> query parameter: <c>Object</c>, <c>Metadata</c>, <c>None</c>, or absent/empty for
    /// Metadata; anything else is the server's 400 <c>unrecognized includeObject value: "X"</c>.
    /// </summary>
    public static bool TryParseIncludeObject(string? value, out TableIncludeObject mode, out string? error)
    {
        (mode, error) = value switch
        {
            null or "" or "Metadata" => (TableIncludeObject.Metadata, null),
            "Object" => (TableIncludeObject.Object, null),
            "None" => (TableIncludeObject.None, null),
            _ => (TableIncludeObject.Metadata, $"unrecognized includeObject value: {GoText.Quote(value)}"),
        };
        return error is null;
    }
}
