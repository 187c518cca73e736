using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>How a list's items relate, as structured-merge-diff sees it (<c>x-kubernetes-list-type</c>).</summary>
internal enum ListType
{
    /// <summary>The list is one value: whoever sets it owns all of it, and a merge replaces it.</summary>
    Atomic,

    /// <summary>A set of scalars: each value is owned separately (<c>v:"value"</c>) and merges by union.</summary>
    Set,

    /// <summary>An associative list: items are identified by their key fields (<c>k:{"name":"a"}</c>) and merge by key.</summary>
    Map,
}

/// <summary>
/// What server-side apply needs to know about the shape of an object at one place in it: which lists are
/// associative and by which keys, which are sets, which maps are atomic, and which fields are declared struct fields.
/// Two implementations: <see cref="BuiltInSchema"/> for the Kubernetes kinds the emulator serves, and
/// <see cref="CrdSchema"/> for a custom resource's <c>openAPIV3Schema</c>. Where nothing is known the schema is
/// <see cref="DeducedSchema"/>: maps are granular and lists atomic, as structured-merge-diff deduces.
/// </summary>
internal interface IFieldSchema
{
    /// <summary>The list type when the value here is a list.</summary>
    ListType ListType { get; }

    /// <summary>The key fields of an associative list; empty for other lists.</summary>
    IReadOnlyList<string> ListMapKeys { get; }

    /// <summary>Whether a map or struct here is atomic (<c>x-kubernetes-map-type: atomic</c>, <c>+structType=atomic</c>).</summary>
    bool IsAtomicMap { get; }

    /// <summary>The schema of the list's items.</summary>
    IFieldSchema Items { get; }

    /// <summary>The schema of a member of the map or struct here.</summary>
    IFieldSchema Field(string name);

    /// <summary>
    /// Whether <paramref name="name"/> is a declared field of a struct here (as opposed to an entry of a free-form map such
    /// as <c>labels</c>); structured-merge-diff treats such fields as owned when anything below them is.
    /// </summary>
    bool IsNamedField(string name);

    /// <summary>The default of an associative list key that an item may leave out (<c>protocol</c> of ports is <c>TCP</c>), or null.</summary>
    JsonNode? ListMapKeyDefault(string key);
}

/// <summary>No schema information: granular maps, atomic lists, no declared fields.</summary>
internal sealed class DeducedSchema : IFieldSchema
{
    private DeducedSchema()
    {
    }

    public static DeducedSchema Instance { get; } = new();

    public ListType ListType => ListType.Atomic;

    public IReadOnlyList<string> ListMapKeys => [];

    public bool IsAtomicMap => false;

    public IFieldSchema Items => this;

    public IFieldSchema Field(string name) => this;

    public bool IsNamedField(string name) => false;

    public JsonNode? ListMapKeyDefault(string key) => null;
}
