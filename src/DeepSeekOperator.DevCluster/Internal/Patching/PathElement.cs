using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>The kinds of step in a structured-merge-diff field path, in the order they sort.</summary>
internal enum PathElementKind
{
    /// <summary>A member of a map or struct: <c>f:name</c>, printed <c>.name</c>.</summary>
    Field,

    /// <summary>An item of an associative list by its keys: <c>k:{"name":"a"}</c>, printed <c>[name="a"]</c>.</summary>
    Key,

    /// <summary>An item of a set by its value: <c>v:"a"</c>, printed <c>[="a"]</c>.</summary>
    Value,

    /// <summary>An item of a list by position: <c>i:0</c>, printed <c>[0]</c>.</summary>
    Index,
}

/// <summary>
/// One step of a field path as structured-merge-diff's <c>fieldpath.PathElement</c>: equal when their FieldsV1
/// encodings are equal, ordered as the library orders them (fields, then keys, values, indices).
/// </summary>
internal sealed class PathElement : IEquatable<PathElement>, IComparable<PathElement>
{
    private readonly IReadOnlyList<KeyValuePair<string, JsonNode?>> keyFields;
    private readonly JsonNode? value;

    private PathElement(PathElementKind kind, string encoded, string name, IReadOnlyList<KeyValuePair<string, JsonNode?>> keyFields, JsonNode? value, int index)
    {
        Kind = kind;
        Encoded = encoded;
        Name = name;
        this.keyFields = keyFields;
        this.value = value;
        Index = index;
    }

    public PathElementKind Kind { get; }

    /// <summary>The FieldsV1 form: <c>f:replicas</c>, <c>k:{"name":"a"}</c>, <c>v:"x"</c>, <c>i:0</c>.</summary>
    public string Encoded { get; }

    /// <summary>The field name of a <see cref="PathElementKind.Field"/> step.</summary>
    public string Name { get; }

    /// <summary>The position of an <see cref="PathElementKind.Index"/> step.</summary>
    public int Index { get; }

    public static PathElement Field(string name) => new(PathElementKind.Field, "f:" + name, name, [], null, 0);

    /// <summary>An associative list item by its key fields (sorted by name, as the library keeps them).</summary>
    public static PathElement Key(IEnumerable<KeyValuePair<string, JsonNode?>> fields)
    {
        var sorted = fields.OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
        var json = new JsonObject();
        foreach (var (name, v) in sorted)
        {
            json[name] = JsonValues.Clone(v);
        }

        return new(PathElementKind.Key, "k:" + GoText.Marshal(json, escapeHtml: false), "", sorted, null, 0);
    }

    public static PathElement Value(JsonNode? value) => new(PathElementKind.Value, "v:" + GoText.Marshal(value, escapeHtml: false), "", [], JsonValues.Clone(value), 0);

    public static PathElement At(int index) => new(PathElementKind.Index, "i:" + index, "", [], null, index);

    /// <summary>Parses one key of a FieldsV1 object (not <c>.</c>); throws <see cref="FormatException"/> on anything else.</summary>
    public static PathElement Parse(string encoded)
    {
        if (encoded.Length < 2 || encoded[1] != ':')
        {
            throw new FormatException($"unexpected path element {GoText.Quote(encoded)}");
        }

        var body = encoded[2..];
        switch (encoded[0])
        {
            case 'f':
                return Field(body);
            case 'k':
                if (ParseJson(body) is not JsonObject fields)
                {
                    throw new FormatException($"key path element is not a map: {encoded}");
                }

                return Key(fields.Select(f => KeyValuePair.Create(f.Key, JsonValues.Clone(f.Value))));
            case 'v':
                return Value(ParseJson(body));
            case 'i':
                return int.TryParse(body, out var index) ? At(index) : throw new FormatException($"invalid index path element: {encoded}");
            default:
                throw new FormatException($"unknown path element kind in {GoText.Quote(encoded)}");
        }

        static JsonNode? ParseJson(string text)
        {
            try
            {
                return JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                throw new FormatException(e.Message, e);
            }
        }
    }

    /// <summary>The form structured-merge-diff prints in conflicts: <c>.spec</c>, <c>[name="a"]</c>, <c>[="x"]</c>, <c>[0]</c>.</summary>
    public override string ToString() => Kind switch
    {
        PathElementKind.Field => "." + Name,
        PathElementKind.Key => "[" + string.Join(',', keyFields.Select(f => f.Key + "=" + Print(f.Value))) + "]",
        PathElementKind.Value => "[=" + Print(value) + "]",
        _ => "[" + Index + "]",
    };

    public bool Equals(PathElement? other) => other is not null && Encoded == other.Encoded;

    public override bool Equals(object? obj) => obj is PathElement other && Equals(other);

    public override int GetHashCode() => Encoded.GetHashCode(StringComparison.Ordinal);

    public int CompareTo(PathElement? other)
    {
        if (other is null)
        {
            return 1;
        }

        if (Kind != other.Kind)
        {
            return Kind.CompareTo(other.Kind);
        }

        switch (Kind)
        {
            case PathElementKind.Field:
                return string.CompareOrdinal(Name, other.Name);
            case PathElementKind.Key:
                for (var i = 0; ; i++)
                {
                    if (i >= keyFields.Count || i >= other.keyFields.Count)
                    {
                        return keyFields.Count.CompareTo(other.keyFields.Count);
                    }

                    var c = string.CompareOrdinal(keyFields[i].Key, other.keyFields[i].Key);
                    if (c == 0)
                    {
                        c = JsonValues.Compare(keyFields[i].Value, other.keyFields[i].Value);
                    }

                    if (c != 0)
                    {
                        return c;
                    }
                }

            case PathElementKind.Value:
                var byValue = JsonValues.Compare(value, other.value);
                return byValue != 0 ? byValue : string.CompareOrdinal(Encoded, other.Encoded);
            default:
                return Index.CompareTo(other.Index);
        }
    }

    /// <summary>structured-merge-diff's <c>value.ToString</c>: strings quoted as Go's <c>%q</c>, other values bare.</summary>
    private static string Print(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => GoText.Quote(v.GetValue<string>()),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => GoText.Sprint(v),
        _ => GoText.Marshal(node, escapeHtml: false),
    };

    /// <summary>A whole path as structured-merge-diff prints it: <c>.spec.template.spec.containers[name="a"].image</c>.</summary>
    public static string Format(IEnumerable<PathElement> path) => string.Concat(path.Select(p => p.ToString()));
}
