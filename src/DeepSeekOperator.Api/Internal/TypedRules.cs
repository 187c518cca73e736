using System.Collections;
using System.Reflection;
using DeepSeekOperator.Api.Schema;

namespace DeepSeekOperator.Api.Internal;

/// <summary>
/// Checks the rules a structural schema cannot express on a typed object: the C# forms of the CEL rules of every
/// <see cref="IHasCelRules"/> type, and the minimum of every <see cref="DurationAttribute"/> string. Errors read as the
/// API server's CEL errors: the path (plus the rule's fieldPath), the schema type of the rule's subject, the message.
/// </summary>
internal static class TypedRules
{
    public static IReadOnlyList<FieldError> Check(object root, string path)
    {
        var errors = new List<FieldError>();
        Walk(root, path, errors);
        return errors;
    }

    private static void Walk(object value, string path, List<FieldError> errors)
    {
        var type = value.GetType();
        if (type.Assembly != typeof(TypedRules).Assembly)
        {
            return;
        }

        if (value is IHasCelRules)
        {
            var rules = (IReadOnlyList<CelRule>)type.GetProperty(nameof(IHasCelRules.CelRules), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            foreach (var rule in rules.Where(r => !r.Holds(value)))
            {
                errors.Add(new FieldError(path + (rule.FieldPath ?? string.Empty), FieldErrorType.Invalid, "\"object\"", rule.Message));
            }
        }

        foreach (var property in SchemaBuilder.JsonProperties(type))
        {
            var child = property.GetValue(value);
            var childPath = StructuralSchema.Child(path, SchemaBuilder.JsonName(property));
            switch (child)
            {
                case null:
                    break;
                case string text when property.GetCustomAttribute<DurationAttribute>() is { } duration:
                    if (!GoDuration.TryParse(text, out var parsed) || parsed < GoDuration.Parse(duration.Minimum))
                    {
                        errors.Add(new FieldError(childPath, FieldErrorType.Invalid, "\"string\"", $"must be a duration of at least {duration.Minimum}"));
                    }

                    break;
                case string:
                    break;
                case IDictionary dictionary:
                    foreach (DictionaryEntry entry in dictionary)
                    {
                        if (entry.Value is { } item)
                        {
                            Walk(item, StructuralSchema.Key(childPath, entry.Key.ToString()!), errors);
                        }
                    }

                    break;
                case IEnumerable list:
                    var index = 0;
                    foreach (var item in list)
                    {
                        if (item is not null)
                        {
                            Walk(item, StructuralSchema.Index(childPath, index), errors);
                        }

                        index++;
                    }

                    break;
                default:
                    Walk(child, childPath, errors);
                    break;
            }
        }
    }
}
