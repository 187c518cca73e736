using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;
using k8s.Models;

namespace DeepSeekOperator.DevCluster.Internal.Admission;

/// <summary>
/// The shapes of built-in kinds, taken from the official client's models, so that a built-in object is decoded as
/// kube-apiserver decodes it into its Go structs: a value of the wrong JSON type is a 400
/// (<c>json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32</c>),
/// and unknown fields are dropped, reported as warnings, or refused under <c>fieldValidation=Strict</c>.
/// </summary>
internal static partial class BuiltinSchemas
{
    // Complete shapes only: a shape is published once all of its properties are filled in, so that a request
    // decoding concurrently with the first use of a kind never sees half a shape (and drops real fields as unknown).
    private static readonly ConcurrentDictionary<Type, Shape> Shapes = new();
    private static readonly Lock ShapesGate = new();

    // The shapes being built by the thread holding ShapesGate; recursive kinds (JSONSchemaProps) refer to themselves.
    private static Dictionary<Type, Shape>? building;
    private static readonly Lazy<Dictionary<(string Group, string Version, string Kind), Type>> Models = new(FindModels);

    /// <summary>
    /// Checks the JSON types of <paramref name="obj"/> against its kind and removes the fields the kind does not have,
    /// as decoding does; returns the removed paths (<c>spec.replica</c>). Throws a 400 for a value of the wrong type.
    /// </summary>
    public static IReadOnlyList<string> Decode(ResourceType type, string version, JsonObject obj)
    {
        if (!Models.Value.TryGetValue((type.Group, version, type.Kind), out var model))
        {
            return [];
        }

        var pruned = new List<string>();
        var shape = ShapeOf(model);
        foreach (var (name, value) in obj.ToList())
        {
            if (name is "apiVersion" or "kind" or "metadata")
            {
                if (name == "metadata" && value is not (null or JsonObject))
                {
                    throw Unmarshal(type, version, value, shape.Properties["metadata"], "metadata");
                }

                continue;
            }

            if (!shape.Properties.TryGetValue(name, out var child))
            {
                obj.Remove(name);
                pruned.Add(name);
                continue;
            }

            Walk(type, version, child, value, name, pruned, shape.StructName);
        }

        return pruned;
    }

    /// <summary>The message for unknown fields under <c>fieldValidation=Strict</c>, with the decoder's prefix.</summary>
    public static string StrictError(ResourceType type, string version, IEnumerable<string> pruned) =>
        $"{type.Kind} in version \"{version}\" cannot be handled as a {type.Kind}: strict decoding error: " +
        string.Join(", ", pruned.Select(p => $"unknown field \"{p}\""));

    /// <summary>Refuses unknown fields under <c>Strict</c>, or reports them as warnings under <c>Warn</c>.</summary>
    public static void ReportUnknown(ResourceType type, string version, IReadOnlyList<string> pruned, WriteOptions options)
    {
        if (pruned.Count == 0)
        {
            return;
        }

        switch (options.FieldValidation)
        {
            case "Strict":
                throw ApiException.BadRequest(StrictError(type, version, pruned));
            case "Warn":
                options.Warnings.AddRange(pruned.Select(p => $"unknown field \"{p}\""));
                break;
            default:
                break;
        }
    }

    private static void Walk(ResourceType type, string version, Shape shape, JsonNode? value, string path, List<string> pruned, string structName)
    {
        if (value is null)
        {
            return;
        }

        var kind = value.GetValueKind();
        switch (shape.Kind)
        {
            case ShapeKind.Any:
                return;
            case ShapeKind.String when kind == JsonValueKind.String:
            case ShapeKind.Boolean when kind is JsonValueKind.True or JsonValueKind.False:
            case ShapeKind.Number when kind == JsonValueKind.Number:
            case ShapeKind.IntOrString when kind is JsonValueKind.Number or JsonValueKind.String:
                return;
            case ShapeKind.Integer when kind == JsonValueKind.Number && Json.Int64(value) is not null:
                return;
            case ShapeKind.Array when value is JsonArray items:
                foreach (var item in items)
                {
                    Walk(type, version, shape.Items!, item, path, pruned, structName);
                }

                return;
            case ShapeKind.Map when value is JsonObject map:
                foreach (var (_, item) in map)
                {
                    Walk(type, version, shape.Items!, item, path, pruned, structName);
                }

                return;
            case ShapeKind.Object when value is JsonObject fields:
                foreach (var (name, child) in fields.ToList())
                {
                    if (!shape.Properties.TryGetValue(name, out var childShape))
                    {
                        fields.Remove(name);
                        pruned.Add($"{path}.{name}");
                        continue;
                    }

                    Walk(type, version, childShape, child, $"{path}.{name}", pruned, shape.StructName);
                }

                return;
            default:
                throw Unmarshal(type, version, value, shape, path, structName);
        }
    }

    private static ApiException Unmarshal(ResourceType type, string version, JsonNode? value, Shape shape, string path, string? structName = null)
    {
        var jsonKind = value?.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => $"number {value!.ToJsonString()}",
            JsonValueKind.True or JsonValueKind.False => "bool",
            JsonValueKind.Array => "array",
            JsonValueKind.Object => "object",
            _ => "null",
        };
        var field = structName is null ? path : $"{structName}.{path}";
        return ApiException.BadRequest(
            $"{type.Kind} in version \"{version}\" cannot be handled as a {type.Kind}: json: cannot unmarshal {jsonKind} into Go struct field {field} of type {shape.GoType}");
    }

    private static Shape ShapeOf(Type model)
    {
        if (Shapes.TryGetValue(model, out var cached))
        {
            return cached;
        }

        lock (ShapesGate)
        {
            if (Shapes.TryGetValue(model, out cached) || (building?.TryGetValue(model, out cached) ?? false))
            {
                return cached;
            }

            var outermost = building is null;
            building ??= [];
            try
            {
                var shape = new Shape(ShapeKind.Object, GoName(model), GoName(model));
                building[model] = shape;
                foreach (var property in model.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name;
                    if (name is not null)
                    {
                        shape.Properties[name] = ShapeOfValue(property.PropertyType);
                    }
                }

                if (outermost)
                {
                    foreach (var (built, builtShape) in building)
                    {
                        Shapes[built] = builtShape;
                    }
                }

                return shape;
            }
            finally
            {
                if (outermost)
                {
                    building = null;
                }
            }
        }
    }

    private static Shape ShapeOfValue(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string) || underlying == typeof(DateTime) || underlying == typeof(DateTimeOffset) || underlying == typeof(byte[]))
        {
            return new Shape(ShapeKind.String, "string", "");
        }

        if (underlying == typeof(int))
        {
            return new Shape(ShapeKind.Integer, "int32", "");
        }

        if (underlying == typeof(long))
        {
            return new Shape(ShapeKind.Integer, "int64", "");
        }

        if (underlying == typeof(double) || underlying == typeof(float))
        {
            return new Shape(ShapeKind.Number, "float64", "");
        }

        if (underlying == typeof(bool))
        {
            return new Shape(ShapeKind.Boolean, "bool", "");
        }

        if (underlying == typeof(IntOrString) || underlying == typeof(ResourceQuantity))
        {
            return new Shape(ShapeKind.IntOrString, underlying == typeof(IntOrString) ? "intstr.IntOrString" : "resource.Quantity", "");
        }

        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(IDictionary<,>))
        {
            var value = ShapeOfValue(underlying.GetGenericArguments()[1]);
            return new Shape(ShapeKind.Map, $"map[string]{value.GoType}", "") { Items = value };
        }

        if (underlying.IsGenericType && underlying.GetGenericTypeDefinition() == typeof(IList<>))
        {
            var item = ShapeOfValue(underlying.GetGenericArguments()[0]);
            return new Shape(ShapeKind.Array, $"[]{item.GoType}", "") { Items = item };
        }

        if (underlying.IsClass && underlying.Namespace == typeof(V1Pod).Namespace && underlying.GetProperties().Any(p => p.GetCustomAttribute<JsonPropertyNameAttribute>() is not null))
        {
            return ShapeOf(underlying);
        }

        return new Shape(ShapeKind.Any, "interface {}", "");
    }

    private static string GoName(Type model) => VersionPrefix().Replace(model.Name, "");

    private static Dictionary<(string Group, string Version, string Kind), Type> FindModels()
    {
        var models = new Dictionary<(string, string, string), Type>();
        foreach (var model in typeof(V1Pod).Assembly.GetTypes())
        {
            if (model.GetCustomAttribute<KubernetesEntityAttribute>() is { } entity && !model.Name.EndsWith("List", StringComparison.Ordinal))
            {
                models.TryAdd((entity.Group ?? "", entity.ApiVersion, entity.Kind), model);
            }
        }

        return models;
    }

    [GeneratedRegex("^(V[0-9]+((alpha|beta)[0-9]+)?|[A-Z][a-z]+v[0-9]+((alpha|beta)[0-9]+)?)")]
    private static partial Regex VersionPrefix();

    private enum ShapeKind
    {
        Any,
        String,
        Integer,
        Number,
        Boolean,
        IntOrString,
        Array,
        Map,
        Object,
    }

    private sealed record Shape(ShapeKind Kind, string GoType, string StructName)
    {
        public Dictionary<string, Shape> Properties { get; } = new(StringComparer.Ordinal);

        public Shape? Items { get; init; }
    }
}
