using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Cel;

/// <summary>The kinds of CEL type the checker knows.</summary>
internal enum CelKind
{
    Dyn,
    Int,
    Uint,
    Double,
    Bool,
    String,
    Bytes,
    Null,
    List,
    Map,
    Object,
    Duration,
    Timestamp,
    Quantity,
    Type,
    Error,
    Param,
}

/// <summary>
/// A CEL type as the checker sees it. Objects carry the schema node they stand for, and their field types are
/// derived from it on demand (schemas may be deep). <see cref="CelKind.Param"/> is a type parameter of an overload.
/// </summary>
internal sealed record CelType(CelKind Kind, CelType? Elem = null, CelType? Key = null, JsonObject? Schema = null, string? Name = null, bool Resource = false)
{
    public static readonly CelType Dyn = new(CelKind.Dyn);
    public static readonly CelType Int = new(CelKind.Int);
    public static readonly CelType Uint = new(CelKind.Uint);
    public static readonly CelType Double = new(CelKind.Double);
    public static readonly CelType Bool = new(CelKind.Bool);
    public static readonly CelType String = new(CelKind.String);
    public static readonly CelType Bytes = new(CelKind.Bytes);
    public static readonly CelType Null = new(CelKind.Null);
    public static readonly CelType Duration = new(CelKind.Duration);
    public static readonly CelType Timestamp = new(CelKind.Timestamp);
    public static readonly CelType Quantity = new(CelKind.Quantity);
    public static readonly CelType Error = new(CelKind.Error);
    public static readonly CelType A = new(CelKind.Param, Name: "A");
    public static readonly CelType B = new(CelKind.Param, Name: "B");

    public static CelType ListOf(CelType elem) => new(CelKind.List, elem);

    public static CelType MapOf(CelType key, CelType value) => new(CelKind.Map, value, key);

    public static CelType TypeOf(CelType type) => new(CelKind.Type, type);

    /// <summary>The type's name as cel-go prints it in error messages.</summary>
    public override string ToString() => Kind switch
    {
        CelKind.Dyn => "dyn",
        CelKind.Int => "int",
        CelKind.Uint => "uint",
        CelKind.Double => "double",
        CelKind.Bool => "bool",
        CelKind.String => "string",
        CelKind.Bytes => "bytes",
        CelKind.Null => "null_type",
        CelKind.List => $"list({Elem})",
        CelKind.Map => $"map({Key}, {Elem})",
        CelKind.Object => Name ?? "object",
        CelKind.Duration => "google.protobuf.Duration",
        CelKind.Timestamp => "google.protobuf.Timestamp",
        CelKind.Quantity => "kubernetes.Quantity",
        CelKind.Type => Elem is null ? "type" : $"type({Elem})",
        CelKind.Error => "*error*",
        CelKind.Param => Name!,
        _ => throw new InvalidOperationException(),
    };

    /// <inheritdoc/>
    public bool Equals(CelType? other) =>
        other is not null && Kind == other.Kind && Equals(Elem, other.Elem) && Equals(Key, other.Key) &&
        ReferenceEquals(Schema, other.Schema) && Name == other.Name && Resource == other.Resource;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Elem, Key, Name);

    /// <summary>
    /// The CEL type of values at a schema node, as Kubernetes declares it (<c>SchemaDeclType</c>): int-or-string is dyn,
    /// <c>number</c> is double, string formats <c>byte</c>, <c>duration</c>, <c>date</c>/<c>date-time</c> are bytes, durations
    /// and timestamps; objects with <c>additionalProperties</c> are maps; null when the node is not visible to CEL.
    /// </summary>
    public static CelType? FromSchema(JsonObject? schema, bool isResourceRoot = false)
    {
        if (schema is null)
        {
            return null;
        }

        if (CelSchema.Flag(schema, "x-kubernetes-int-or-string"))
        {
            return Dyn;
        }

        var embedded = isResourceRoot || CelSchema.Flag(schema, "x-kubernetes-embedded-resource");
        switch (CelSchema.Text(schema, "type"))
        {
            case "array":
                var items = FromSchema(schema["items"] as JsonObject, CelSchema.Flag(schema["items"] as JsonObject, "x-kubernetes-embedded-resource"));
                return items is null ? null : ListOf(items);
            case "object":
                if (schema["additionalProperties"] is JsonObject additional)
                {
                    var values = FromSchema(additional, CelSchema.Flag(additional, "x-kubernetes-embedded-resource"));
                    return values is null ? null : MapOf(String, values);
                }

                return new CelType(CelKind.Object, Schema: schema, Resource: embedded);
            case "string":
                return CelSchema.Text(schema, "format") switch
                {
                    "byte" => Bytes,
                    "duration" => Duration,
                    "date" or "date-time" => Timestamp,
                    _ => String,
                };
            case "boolean":
                return Bool;
            case "number":
                return Double;
            case "integer":
                return Int;
            default:
                return null;
        }
    }

    /// <summary>
    /// The type of field <paramref name="name"/> of an object type, or null when the schema does not declare it
    /// (unknown fields of objects that preserve them are not visible to CEL, as in Kubernetes).
    /// </summary>
    public CelType? Field(string name)
    {
        if (Kind != CelKind.Object || Schema is null)
        {
            return null;
        }

        // apiVersion, kind, metadata.name and metadata.generateName are visible at the root of every resource.
        if (Resource && name is "apiVersion" or "kind")
        {
            return String;
        }

        if (Resource && name == "metadata")
        {
            return new CelType(CelKind.Object, Schema: CelSchema.Metadata);
        }

        var property = CelSchema.Property(Schema, name);
        return property is null ? null : FromSchema(property, CelSchema.Flag(property, "x-kubernetes-embedded-resource"));
    }
}
