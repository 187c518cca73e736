using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Patching;

namespace DeepSeekOperator.DevCluster.Internal.Storage;

/// <summary>
/// One committed version of an object. The JSON tree is never changed once stored: readers clone it,
/// writers build a new tree. Its serialized form is computed once and shared by every list and watch.
/// </summary>
internal sealed class StoredObject
{
    private byte[]? json;
    private DecodedManagedFields? managedFields;

    /// <summary>
    /// Stores <paramref name="value"/> as serialized JSON and a private parsed copy, so later changes to the argument do
    /// not leak in; <paramref name="managedFields"/> are its managed fields decoded, when the writer has them.
    /// </summary>
    public StoredObject(JsonObject value, long revision, DecodedManagedFields? managedFields = null)
    {
        this.managedFields = managedFields;
        json = Serialize(value);
        Value = (JsonObject)JsonNode.Parse(json)!;
        Revision = revision;
        var metadata = value["metadata"] as JsonObject;
        Namespace = metadata?["namespace"]?.GetValue<string>() ?? "";
        Name = metadata?["name"]?.GetValue<string>() ?? "";
        Uid = metadata?["uid"]?.GetValue<string>() ?? "";
    }

    /// <summary>JSON options for every response: UTF-8 kept as is, like Go's encoder.</summary>
    public static JsonSerializerOptions WireOptions { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The object; do not change it.</summary>
    public JsonObject Value { get; }

    public long Revision { get; }

    public string Namespace { get; }

    public string Name { get; }

    public string Uid { get; }

    /// <summary>The key the object is stored under within its resource: <c>namespace/name</c> or <c>name</c>.</summary>
    public string Key => Namespace.Length == 0 ? Name : $"{Namespace}/{Name}";

    /// <summary>
    /// The object's <c>metadata.managedFields</c> decoded, computed on first use unless the writer gave them; never
    /// serialized. Read from a copy: <see cref="Value"/> stays backed by its JSON, which keeps <see cref="Clone"/> cheap.
    /// </summary>
    public DecodedManagedFields ManagedFields => managedFields ??= DecodedManagedFields.Of(Clone());

    /// <summary>The object serialized, computed on first use.</summary>
    public byte[] Json => json ??= Serialize(Value);

    /// <summary>A copy the caller may change.</summary>
    public JsonObject Clone() => (JsonObject)Value.DeepClone();

    public static byte[] Serialize(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node, WireOptions);

    public static string KeyOf(string ns, string name) => ns.Length == 0 ? name : $"{ns}/{name}";
}

/// <summary>What happened to an object in one committed write.</summary>
internal enum StoreEventType
{
    Added,
    Modified,
    Deleted,
}

/// <summary>One committed change, kept in the watch window.</summary>
/// <param name="Revision">The revision of the write.</param>
/// <param name="StorageKey">The resource the object belongs to.</param>
/// <param name="Type">Added, modified or deleted.</param>
/// <param name="Object">The object after the write; for a deletion, its last state carrying the deletion's revision.</param>
/// <param name="Previous">The object before the write, null for an addition.</param>
internal sealed record StoreEvent(long Revision, string StorageKey, StoreEventType Type, StoredObject Object, StoredObject? Previous);
