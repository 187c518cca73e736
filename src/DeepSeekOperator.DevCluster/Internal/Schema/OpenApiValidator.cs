using System.Globalization;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Validates a value against a schema as kube-openapi's <c>SchemaValidator</c> does (type, junctors, string, format,
/// number, array, enum, object, in that order), with the ratcheting of unchanged values, and converts each failure
/// to a field error as apiextensions' <c>kubeOpenAPIResultToFieldErrors</c> does. kube-openapi names a value by its
/// dotted path (<c>spec.limits.memory</c>) in both the field and the message.
/// </summary>
/// <param name="prefix">The field path the value sits at: empty for a custom object, <c>…default</c> for a default.</param>
internal sealed class OpenApiValidator(string prefix)
{
    /// <summary>Validates <paramref name="value"/> and appends what fails to <paramref name="errors"/>.</summary>
    public static void Validate(SchemaNode schema, JsonNode? value, Correlation old, string prefix, List<FieldError> errors) =>
        new OpenApiValidator(prefix).Node(schema, value, string.Empty, old, errors);

    private void Node(SchemaNode s, JsonNode? data, string name, Correlation old, List<FieldError> errors)
    {
        if (old.Exists && JsonValues.GoEquals(old.Value, data))
        {
            return;
        }

        var kind = JsonValues.KindOf(data);
        CheckType(s, data, kind, name, errors);
        if (data is null)
        {
            CheckEnum(s, data, name, errors);
            return;
        }

        CheckJunctors(s, data, name, old, errors);
        if (kind == JsonKind.String)
        {
            var text = Json.String(data)!;
            CheckString(s, text, name, errors);
            if (s.Format is { } format && !StringFormats.IsValid(format, text))
            {
                errors.Add(TypeInvalid(name, text, format, text));
            }
        }

        if (kind is JsonKind.Integer or JsonKind.Number)
        {
            CheckNumber(s, JsonValues.ReadNumber(data.AsValue()), name, errors);
        }

        if (data is JsonArray array)
        {
            CheckArray(s, array, name, old, errors);
        }

        CheckEnum(s, data, name, errors);
        if (data is JsonObject obj)
        {
            CheckObject(s, obj, name, old, errors);
        }
    }

    private void CheckType(SchemaNode s, JsonNode? data, JsonKind kind, string name, List<FieldError> errors)
    {
        if (s.Types.Count == 0 && s.Format is null)
        {
            return;
        }

        if (kind == JsonKind.Null)
        {
            if (s.Types.Count > 0 && !s.Types.Contains("null") && !s.Nullable)
            {
                errors.Add(TypeInvalid(name, "null", string.Join(",", s.Types), "null"));
            }

            return;
        }

        var found = JsonValues.TypeName(kind);
        var foundFormat = kind switch
        {
            JsonKind.Integer => "int64",
            JsonKind.Number => "float64",
            _ => string.Empty,
        };
        var floatIsInteger = kind == JsonKind.Number && JsonValues.IsJsonInteger(JsonValues.ReadNumber(data!.AsValue()).Float) && s.Types.Contains("integer");
        var integerIsNumber = kind == JsonKind.Integer && s.Types.Contains("number");
        var typeMatches = s.Types.Contains(found) || floatIsInteger || integerIsNumber;
        if (kind is not (JsonKind.String or JsonKind.Array) && s.Format is { } format && !(typeMatches || foundFormat == format))
        {
            errors.Add(TypeInvalid(name, foundFormat, format, foundFormat));
            return;
        }

        if (!(s.Types.Contains("number") || s.Types.Contains("integer")) && s.Format is not null && kind is JsonKind.String or JsonKind.Array)
        {
            return;
        }

        if (!typeMatches)
        {
            errors.Add(TypeInvalid(name, found, string.Join(",", s.Types), found));
        }
    }

    private void CheckJunctors(SchemaNode s, JsonNode data, string name, Correlation old, List<FieldError> errors)
    {
        if (s.AnyOf.Count > 0)
        {
            List<FieldError>? best = null;
            var succeeded = false;
            foreach (var branch in s.AnyOf)
            {
                var result = new List<FieldError>();
                Node(branch, data, name, old, result);
                if (result.Count == 0)
                {
                    succeeded = true;
                    best = null;
                    break;
                }

                best ??= result;
            }

            if (!succeeded)
            {
                errors.Add(JunctorError($"\"{name}\" must validate at least one schema (anyOf)"));
            }

            errors.AddRange(best ?? []);
        }

        if (s.OneOf.Count > 0)
        {
            List<FieldError>? best = null;
            var validated = 0;
            foreach (var branch in s.OneOf)
            {
                var result = new List<FieldError>();
                Node(branch, data, name, old, result);
                if (result.Count == 0)
                {
                    validated++;
                    best = null;
                }
                else if (validated == 0)
                {
                    best ??= result;
                }
            }

            if (validated != 1)
            {
                var found = validated == 0 ? "Found none valid" : $"Found {validated} valid alternatives";
                errors.Add(JunctorError($"\"{name}\" must validate one and only one schema (oneOf). {found}"));
                errors.AddRange(best ?? []);
            }
        }

        if (s.AllOf.Count > 0)
        {
            var validated = 0;
            foreach (var branch in s.AllOf)
            {
                var result = new List<FieldError>();
                Node(branch, data, name, old, result);
                validated += result.Count == 0 ? 1 : 0;
                errors.AddRange(result);
            }

            if (validated != s.AllOf.Count)
            {
                errors.Add(JunctorError($"\"{name}\" must validate all the schemas (allOf){(validated == 0 ? ". None validated" : string.Empty)}"));
            }
        }

        if (s.Not is { } not)
        {
            var result = new List<FieldError>();
            Node(not, data, name, old, result);
            if (result.Count == 0)
            {
                errors.Add(JunctorError($"\"{name}\" must not validate the schema (not)"));
            }
        }
    }

    private void CheckString(SchemaNode s, string text, string name, List<FieldError> errors)
    {
        if (s.MaxLength is { } max && CountRunes(text) > max)
        {
            errors.Add(new FieldError(FieldErrorType.TooLong, FieldOf(name), null, TooLongDetail(max)));
        }
        else if (s.MinLength is { } min && CountRunes(text) < min)
        {
            errors.Add(Invalid(name, GoText.Quote(text), $"{name} in body should be at least {min} chars long"));
        }
        else if (s.PatternRegex is { } regex && !GoRegex.IsMatch(regex, text))
        {
            errors.Add(Invalid(name, GoText.Quote(text), $"{name} in body should match '{s.Pattern}'"));
        }
    }

    private void CheckNumber(SchemaNode s, GoNumber number, string name, List<FieldError> errors)
    {
        if (s.MultipleOf is { } factor)
        {
            var multiple = Truncate(factor);
            if (number.IsInteger && multiple != 0)
            {
                if (number.Integer % multiple != 0)
                {
                    errors.Add(Invalid(name, Text(number.Integer), $"{name} in body should be a multiple of {Text(multiple)}"));
                }
            }
            else if (factor <= 0)
            {
                errors.Add(Invalid(name, GoText.Float(factor), $"factor MultipleOf declared for {name} must be positive: {GoText.Float(factor)}"));
            }
            else
            {
                var data = number.AsDouble;
                var quotient = factor < 1 ? 1 / factor * data : data / factor;
                if (!JsonValues.IsJsonInteger(quotient))
                {
                    errors.Add(Invalid(name, GoText.Float(data), $"{name} in body should be a multiple of {GoText.Float(factor)}"));
                }
            }
        }

        if (s.Minimum is { } minimum)
        {
            var exclusive = s.ExclusiveMinimum ? string.Empty : " or equal to";
            if (number.IsInteger)
            {
                var bound = Truncate(minimum);
                if (number.Integer < bound || (s.ExclusiveMinimum && number.Integer == bound))
                {
                    errors.Add(Invalid(name, Text(number.Integer), $"{name} in body should be greater than{exclusive} {Text(bound)}"));
                }
            }
            else if (number.Float < minimum || (s.ExclusiveMinimum && number.Float.Equals(minimum)))
            {
                errors.Add(Invalid(name, GoText.Float(number.Float), $"{name} in body should be greater than{exclusive} {GoText.Float(minimum)}"));
            }
        }

        if (s.Maximum is { } maximum)
        {
            var exclusive = s.ExclusiveMaximum ? string.Empty : " or equal to";
            if (number.IsInteger)
            {
                var bound = Truncate(maximum);
                if (number.Integer > bound || (s.ExclusiveMaximum && number.Integer == bound))
                {
                    errors.Add(Invalid(name, Text(number.Integer), $"{name} in body should be less than{exclusive} {Text(bound)}"));
                }
            }
            else if (number.Float > maximum || (s.ExclusiveMaximum && number.Float.Equals(maximum)))
            {
                errors.Add(Invalid(name, GoText.Float(number.Float), $"{name} in body should be less than{exclusive} {GoText.Float(maximum)}"));
            }
        }
    }

    private void CheckArray(SchemaNode s, JsonArray array, string name, Correlation old, List<FieldError> errors)
    {
        if (s.Items is { } items)
        {
            for (var i = 0; i < array.Count; i++)
            {
                Node(items, array[i], string.Create(CultureInfo.InvariantCulture, $"{name}[{i}]"), old.Item(s, array[i], includeSets: true), errors);
            }
        }

        if (s.MinItems is { } min && array.Count < min)
        {
            errors.Add(Invalid(name, Text(array.Count), $"{name} in body should have at least {min} items"));
        }

        if (s.MaxItems is { } max && array.Count > max)
        {
            errors.Add(new FieldError(FieldErrorType.TooMany, FieldOf(name), Text(array.Count), TooManyDetail(max)));
        }
    }

    private void CheckEnum(SchemaNode s, JsonNode? data, string name, List<FieldError> errors)
    {
        if (s.Enum is not { Count: > 0 } values || values.Any(v => EnumMatches(v, data)))
        {
            return;
        }

        var supported = values.Select(v => Json.String(v) ?? GoText.Marshal(v)).Select(GoText.Quote);
        errors.Add(new FieldError(FieldErrorType.NotSupported, FieldOf(name), GoText.Value(data), "supported values: " + string.Join(", ", supported)));
    }

    private void CheckObject(SchemaNode s, JsonObject obj, string name, Correlation old, List<FieldError> errors)
    {
        if (s.MinProperties is { } min && obj.Count < min)
        {
            errors.Add(Invalid(name, Text(obj.Count), $"{name} in body should have at least {min} properties"));
            return;
        }

        if (s.MaxProperties is { } max && obj.Count > max)
        {
            errors.Add(new FieldError(FieldErrorType.TooMany, FieldOf(name), Text(obj.Count), TooManyDetail(max)));
            return;
        }

        foreach (var (key, value) in obj)
        {
            if (s.Property(key) is not null)
            {
                continue;
            }

            if (s.AdditionalPropertiesForbidden)
            {
                errors.Add(Invalid(name, GoText.Quote(key), $"{name}.{key} in body is a forbidden property"));
            }
            else if (s.AdditionalProperties is { } additional)
            {
                Node(additional, value, name + "." + key, old.Member(s, key), errors);
            }
        }

        foreach (var (property, schema) in s.Properties)
        {
            if (obj.TryGetPropertyValue(property, out var value))
            {
                Node(schema, value, name.Length == 0 ? property : name + "." + property, old.Member(s, property), errors);
            }
        }

        foreach (var required in s.Required)
        {
            if (!obj.ContainsKey(required))
            {
                errors.Add(FieldError.Required(FieldOf(name + "." + required)));
            }
        }
    }

    /// <summary>Go's <c>int64(f)</c>: the float truncated toward zero, saturated to the int64 range.</summary>
    private static long Truncate(double value) =>
        double.IsNaN(value) ? 0 : value >= long.MaxValue ? long.MaxValue : value <= long.MinValue ? long.MinValue : (long)value;

    private static bool EnumMatches(JsonNode? allowed, JsonNode? data)
    {
        if (allowed is null || data is null)
        {
            return false;
        }

        var allowedKind = JsonValues.KindOf(allowed);
        var dataKind = JsonValues.KindOf(data);
        if (allowedKind is JsonKind.Integer or JsonKind.Number && dataKind is JsonKind.Integer or JsonKind.Number)
        {
            // Go converts the value to the enum value's type before comparing: a float64 to int64 truncates.
            var a = JsonValues.ReadNumber(allowed.AsValue());
            var d = JsonValues.ReadNumber(data.AsValue());
            return a.IsInteger ? Truncate(d.AsDouble) == a.Integer || (d.IsInteger && d.Integer == a.Integer) : d.AsDouble.Equals(a.Float);
        }

        return JsonValues.GoEquals(allowed, data);
    }

    private static int CountRunes(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    private static string TooLongDetail(long max) => max >= 0 ? $"may not be more than {max} {(max == 1 ? "byte" : "bytes")}" : "value is too long";

    private static string TooManyDetail(long max) => max >= 0 ? $"must have at most {max} {(max == 1 ? "item" : "items")}" : "has too many items";

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The field of an error kube-openapi reports under <paramref name="name"/>: its leading dot dropped, under the prefix.</summary>
    private string FieldOf(string name)
    {
        if (name.Length == 0 || name == ".")
        {
            return prefix;
        }

        var child = name[0] == '.' ? name[1..] : name;
        return FieldPath.Child(prefix, child);
    }

    private FieldError Invalid(string name, string value, string detail) => new(FieldErrorType.Invalid, FieldOf(name), value, detail);

    private FieldError TypeInvalid(string name, string value, string type, string found) =>
        new(FieldErrorType.TypeInvalid, FieldOf(name), GoText.Quote(value), $"{name} in body must be of type {type}: {GoText.Quote(found)}");

    /// <summary>The junctor failures kube-openapi reports as plain errors, which apiextensions puts at the prefix (printed <c>&lt;nil&gt;</c> when empty).</summary>
    private FieldError JunctorError(string detail) =>
        new(FieldErrorType.Invalid, prefix.Length == 0 ? "<nil>" : prefix, GoText.Quote(string.Empty), detail);
}
