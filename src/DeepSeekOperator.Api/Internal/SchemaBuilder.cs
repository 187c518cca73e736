using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using DeepSeekOperator.Api.Schema;
using k8s.Models;

namespace DeepSeekOperator.Api.Internal;

/// <summary>
/// Builds a structural OpenAPI v3 schema from C# types by reflection: property names from
/// <see cref="JsonPropertyNameAttribute"/>, descriptions from the XML documentation, <c>required</c> from C#
/// <c>required</c> members, bounds and patterns from the attributes in <see cref="Schema"/>, cross-field rules from
/// <see cref="IHasCelRules"/>, and defaults from the property initializers of a default-constructed object.
/// </summary>
internal sealed class SchemaBuilder
{
    private const string QuantityPattern =
        @"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

    private readonly HashSet<Type> _visiting = [];

    /// <summary>The schema of a whole custom resource: apiVersion, kind, metadata, spec and status.</summary>
    public V1JSONSchemaProps ForEntity(Type entity)
    {
        var schema = ForObject(entity, defaults: null, withDefaults: false);
        schema.Description = XmlDocumentation.Summary(entity);
        if (entity.GetCustomAttribute<NameRestrictionAttribute>() is { } name)
        {
            schema.Properties["metadata"] = new V1JSONSchemaProps
            {
                Type = "object",
                Properties = new Dictionary<string, V1JSONSchemaProps>
                {
                    ["name"] = new() { Type = "string", Pattern = name.Pattern, MaxLength = name.MaxLength, Description = name.Reason },
                },
            };
        }

        return schema;
    }

    private V1JSONSchemaProps ForObject(Type type, object? defaults, bool withDefaults)
    {
        if (!_visiting.Add(type))
        {
            throw new InvalidOperationException($"{type.Name} contains itself; a structural schema cannot describe a recursive type");
        }

        var schema = new V1JSONSchemaProps { Type = "object", Properties = new Dictionary<string, V1JSONSchemaProps>() };
        var required = new List<string>();
        foreach (var property in JsonProperties(type))
        {
            var name = JsonName(property);
            // The spec gets defaults; status, metadata and Kubernetes' own types never do.
            var propertyDefaults = withDefaults ? defaults ?? DefaultInstance(type) : null;
            var childWithDefaults = withDefaults || (Implements(type, typeof(ISpec<>)) && name == "spec");
            schema.Properties[name] = ForProperty(property, propertyDefaults, childWithDefaults, out var isRequired);
            if (isRequired)
            {
                required.Add(name);
            }
        }

        if (required.Count > 0)
        {
            schema.Required = required;
        }

        if (typeof(IHasCelRules).IsAssignableFrom(type))
        {
            var rules = (IReadOnlyList<CelRule>)type.GetProperty(nameof(IHasCelRules.CelRules), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            schema.XKubernetesValidations = [.. rules.Select(r => new V1ValidationRule { Rule = r.Rule, Message = r.Message, FieldPath = r.FieldPath })];
        }

        _visiting.Remove(type);
        return schema;
    }

    private V1JSONSchemaProps ForProperty(PropertyInfo property, object? parentDefaults, bool withDefaults, out bool required)
    {
        required = property.GetCustomAttribute<RequiredMemberAttribute>() is not null;
        var value = parentDefaults is null ? null : property.GetValue(parentDefaults);
        var schema = ForType(property.PropertyType, value, withDefaults);
        schema.Description = XmlDocumentation.Summary(property) ?? schema.Description;

        if (withDefaults && !required && value is not null && DefaultOf(value) is { } defaultValue)
        {
            schema.DefaultProperty = defaultValue;
        }

        foreach (var attribute in property.GetCustomAttributes())
        {
            switch (attribute)
            {
                case MinimumAttribute min:
                    schema.Minimum = min.Value;
                    schema.ExclusiveMinimum = min.Exclusive ? true : null;
                    break;
                case MaximumAttribute max:
                    schema.Maximum = max.Value;
                    break;
                case PatternAttribute pattern:
                    schema.Pattern = pattern.Regex;
                    break;
                case LengthAttribute length:
                    schema.MinLength = length.Min >= 0 ? length.Min : null;
                    schema.MaxLength = length.Max >= 0 ? length.Max : null;
                    break;
                case MaxItemsAttribute items:
                    schema.MaxItems = items.Count;
                    break;
                case ListMapAttribute map:
                    schema.XKubernetesListType = "map";
                    schema.XKubernetesListMapKeys = [.. map.Keys];
                    break;
                case DurationAttribute duration:
                    schema.Pattern = Patterns.GoDuration;
                    schema.XKubernetesValidations =
                    [
                        new V1ValidationRule
                        {
                            Rule = $"duration(self) >= duration('{duration.Minimum}')",
                            Message = $"must be a duration of at least {duration.Minimum}",
                        },
                    ];
                    break;
            }
        }

        return schema;
    }

    private V1JSONSchemaProps ForType(Type type, object? defaults, bool withDefaults)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return new() { Type = "string" };
        }

        if (type == typeof(bool))
        {
            return new() { Type = "boolean" };
        }

        if (type == typeof(int) || type == typeof(long))
        {
            return new() { Type = "integer", Format = type == typeof(int) ? "int32" : "int64" };
        }

        if (type == typeof(double) || type == typeof(float))
        {
            return new() { Type = "number", Format = type == typeof(double) ? "double" : "float" };
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset))
        {
            return new() { Type = "string", Format = "date-time" };
        }

        if (type.IsEnum)
        {
            return new() { Type = "string", EnumProperty = [.. EnumNames(type)] };
        }

        if (type == typeof(ResourceQuantity))
        {
            return IntOrString(QuantityPattern);
        }

        if (type == typeof(IntOrString))
        {
            return IntOrString(pattern: null);
        }

        if (type == typeof(V1Condition))
        {
            return StandardCondition();
        }

        if (type == typeof(V1ObjectMeta))
        {
            return new() { Type = "object" };
        }

        if (DictionaryValueType(type) is { } valueType)
        {
            return new() { Type = "object", AdditionalProperties = ForType(valueType, null, withDefaults: false) };
        }

        if (ListItemType(type) is { } itemType)
        {
            return new() { Type = "array", Items = ForType(itemType, null, withDefaults: false) };
        }

        if (type.IsClass && !type.IsAbstract)
        {
            var schema = ForObject(type, defaults, withDefaults && IsOwnType(type));
            schema.Description = XmlDocumentation.Summary(type);
            return schema;
        }

        throw new NotSupportedException($"No schema mapping for {type}");
    }

    /// <summary>The properties serialized to JSON, base class first, in declaration order.</summary>
    public static IEnumerable<PropertyInfo> JsonProperties(Type type)
    {
        var chain = new Stack<Type>();
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            chain.Push(t);
        }

        return chain
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).OrderBy(p => p.MetadataToken))
            .Where(p => p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null && p.SetMethod is not null);
    }

    /// <summary>The JSON name of a property.</summary>
    public static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy(property.Name);

    /// <summary>The JSON names of an enum's members, in declaration order.</summary>
    public static IEnumerable<string> EnumNames(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name);

    /// <summary>The element type of a list, or null.</summary>
    public static Type? ListItemType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var enumerable = type == typeof(string) || DictionaryValueType(type) is not null ? null :
            type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>) ? type :
            type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    /// <summary>The value type of a dictionary keyed by strings, or null.</summary>
    public static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>) ? type :
            type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary is not null && dictionary.GetGenericArguments()[0] == typeof(string) ? dictionary.GetGenericArguments()[1] : null;
    }

    /// <summary>Whether <paramref name="type"/> implements a constructed form of the generic interface <paramref name="definition"/>.</summary>
    public static bool Implements(Type type, Type definition) =>
        type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition);

    private static bool IsOwnType(Type type) => type.Assembly == typeof(SchemaBuilder).Assembly;

    private static object? DefaultInstance(Type type) =>
        IsOwnType(type) && type.GetConstructor(Type.EmptyTypes) is not null
            ? Activator.CreateInstance(type)
            : null;

    // A scalar default is its JSON value; an object default is {} so that the API server fills its own fields' defaults.
    private static object? DefaultOf(object value) => value switch
    {
        string s => s,
        bool b => b,
        int or long => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        double or float => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        Enum e => EnumNames(e.GetType()).ElementAt(Array.IndexOf(Enum.GetValues(e.GetType()), e)),
        IEnumerable => null,
        _ when IsOwnType(value.GetType()) => new Dictionary<string, object>(),
        _ => null,
    };

    private static string JsonNamingPolicy(string name) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(name);

    private static V1JSONSchemaProps IntOrString(string? pattern) => new()
    {
        XKubernetesIntOrString = true,
        AnyOf = [new() { Type = "integer" }, new() { Type = "string" }],
        Pattern = pattern,
    };

    // metav1.Condition, as controller-gen writes it.
    private static V1JSONSchemaProps StandardCondition() => new()
    {
        Type = "object",
        Description = "Condition contains details for one aspect of the current state of this API Resource.",
        Required = ["lastTransitionTime", "message", "reason", "status", "type"],
        Properties = new Dictionary<string, V1JSONSchemaProps>
        {
            ["lastTransitionTime"] = new()
            {
                Type = "string",
                Format = "date-time",
                Description = "lastTransitionTime is the last time the condition transitioned from one status to another.",
            },
            ["message"] = new()
            {
                Type = "string",
                MaxLength = 32768,
                Description = "message is a human readable message indicating details about the transition.",
            },
            ["observedGeneration"] = new()
            {
                Type = "integer",
                Format = "int64",
                Minimum = 0,
                Description = "observedGeneration represents the .metadata.generation that the condition was set based upon.",
            },
            ["reason"] = new()
            {
                Type = "string",
                MinLength = 1,
                MaxLength = 1024,
                Pattern = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
                Description = "reason contains a programmatic identifier indicating the reason for the condition's last transition.",
            },
            ["status"] = new()
            {
                Type = "string",
                EnumProperty = ["True", "False", "Unknown"],
                Description = "status of the condition, one of True, False, Unknown.",
            },
            ["type"] = new()
            {
                Type = "string",
                MaxLength = 316,
                Pattern = @"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
                Description = "type of condition in CamelCase or in foo.example.com/CamelCase.",
            },
        },
    };
}
