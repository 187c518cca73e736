using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Admission;

/// <summary>The checks apimachinery's <c>ValidateObjectMeta</c> makes, with its messages.</summary>
internal static partial class ObjectMetaValidation
{
    private const string Dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
    private const string Dns1123SubdomainFormat = Dns1123LabelFormat + "(\\." + Dns1123LabelFormat + ")*";
    private const string Dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?";
    private const string LabelValueFormat = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
    private const string QualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
    private const long TotalAnnotationSizeLimit = 256 * 1024;

    /// <summary>The errors of a name under a kind's rule; empty when the name is valid.</summary>
    public static IReadOnlyList<string> NameErrors(NameRule rule, string name) => rule switch
    {
        NameRule.Subdomain => Dns1123Subdomain(name),
        NameRule.Label => Dns1123Label(name),
        NameRule.Dns1035Label => Dns1035Label(name),
        NameRule.PathSegment => PathSegment(name),
        _ => [],
    };

    public static IReadOnlyList<string> Dns1123Subdomain(string value)
    {
        var errors = new List<string>();
        if (value.Length > 253)
        {
            errors.Add("must be no more than 253 characters");
        }

        if (!SubdomainRegex().IsMatch(value))
        {
            errors.Add(RegexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", Dns1123SubdomainFormat, "example.com"));
        }

        return errors;
    }

    public static IReadOnlyList<string> Dns1123Label(string value)
    {
        var errors = new List<string>();
        if (value.Length > 63)
        {
            errors.Add("must be no more than 63 characters");
        }

        if (!LabelRegex().IsMatch(value))
        {
            errors.Add(RegexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character", Dns1123LabelFormat, "my-name", "123-abc"));
        }

        return errors;
    }

    public static IReadOnlyList<string> Dns1035Label(string value)
    {
        var errors = new List<string>();
        if (value.Length > 63)
        {
            errors.Add("must be no more than 63 characters");
        }

        if (!Dns1035Regex().IsMatch(value))
        {
            errors.Add(RegexError("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character", Dns1035LabelFormat, "my-name", "abc-123"));
        }

        return errors;
    }

    public static IReadOnlyList<string> PathSegment(string value) =>
        value is "." or ".." ? [$"may not be '{value}'"]
        : value.Contains('/', StringComparison.Ordinal) ? ["may not contain '/'"]
        : value.Contains('%', StringComparison.Ordinal) ? ["may not contain '%'"]
        : [];

    /// <summary>Validates the metadata of an object about to be stored.</summary>
    public static List<FieldError> Validate(JsonObject obj, ResourceType type)
    {
        var errors = new List<FieldError>();
        var metadata = obj["metadata"] as JsonObject;
        var name = Meta.Name(obj);
        var generateName = Meta.String(obj, "generateName");
        if (name.Length == 0)
        {
            errors.Add(FieldError.Required("metadata.name", generateName is null ? "name or generateName is required" : ""));
        }
        else
        {
            foreach (var message in NameErrors(type.NameRule, name))
            {
                errors.Add(FieldError.Invalid("metadata.name", name, message));
            }
        }

        var ns = Meta.Namespace(obj);
        if (type.Namespaced)
        {
            if (ns.Length == 0)
            {
                errors.Add(FieldError.Required("metadata.namespace", ""));
            }
            else
            {
                foreach (var message in Dns1123Label(ns))
                {
                    errors.Add(FieldError.Invalid("metadata.namespace", ns, message));
                }
            }
        }
        else if (ns.Length > 0)
        {
            errors.Add(FieldError.Forbidden("metadata.namespace", "not allowed on this type"));
        }

        if (metadata?["labels"] is JsonNode labels)
        {
            ValidateLabels(labels, "metadata.labels", errors);
        }

        if (metadata?["annotations"] is JsonNode annotations)
        {
            ValidateAnnotations(annotations, errors);
        }

        if (metadata?["ownerReferences"] is JsonArray owners)
        {
            for (var i = 0; i < owners.Count; i++)
            {
                var path = $"metadata.ownerReferences[{i}]";
                if (owners[i] is not JsonObject owner)
                {
                    errors.Add(FieldError.Invalid(path, owners[i], "must be an object"));
                    continue;
                }

                foreach (var field in new[] { "apiVersion", "kind", "name", "uid" })
                {
                    if (owner[field] is not JsonValue v || v.GetValueKind() != JsonValueKind.String || v.GetValue<string>().Length == 0)
                    {
                        errors.Add(FieldError.Invalid($"{path}.{field}", owner[field], field == "uid" ? "uid must not be empty" : $"{field} must not be empty"));
                    }
                }

                if (owner["uid"]?.ToString() == Meta.Uid(obj) && Meta.Uid(obj).Length > 0)
                {
                    errors.Add(FieldError.Invalid(path, owner["uid"], "an object cannot own itself"));
                }
            }

            if (owners.OfType<JsonObject>().Count(o => Json.Bool(o["controller"]) == true) > 1)
            {
                errors.Add(FieldError.Invalid("metadata.ownerReferences", owners, "Only one reference can have Controller set to true"));
            }
        }

        if (metadata?["finalizers"] is JsonArray finalizers)
        {
            for (var i = 0; i < finalizers.Count; i++)
            {
                var finalizer = finalizers[i]?.ToString() ?? "";
                foreach (var message in QualifiedName(finalizer))
                {
                    errors.Add(FieldError.Invalid($"metadata.finalizers[{i}]", finalizer, message));
                }
            }
        }

        return errors;
    }

    public static void ValidateLabels(JsonNode labels, string path, List<FieldError> errors)
    {
        if (labels is not JsonObject map)
        {
            errors.Add(FieldError.Invalid(path, labels, "must be a map of strings"));
            return;
        }

        foreach (var (key, value) in map)
        {
            foreach (var message in QualifiedName(key))
            {
                errors.Add(FieldError.Invalid(path, key, message));
            }

            if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
            {
                errors.Add(FieldError.Invalid($"{path}[{key}]", value, "must be a string"));
                continue;
            }

            var text = v.GetValue<string>();
            if (text.Length > 63)
            {
                errors.Add(FieldError.Invalid(path, text, "must be no more than 63 characters"));
            }

            if (!LabelValueRegex().IsMatch(text))
            {
                errors.Add(FieldError.Invalid(path, text, RegexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", LabelValueFormat, "MyValue", "my_value", "12345")));
            }
        }
    }

    /// <summary>The errors of a qualified name (<c>prefix/name</c>), as label keys and finalizers are.</summary>
    public static IReadOnlyList<string> QualifiedName(string value)
    {
        var errors = new List<string>();
        var parts = value.Split('/');
        string name;
        if (parts.Length == 1)
        {
            name = parts[0];
        }
        else if (parts.Length == 2)
        {
            if (parts[0].Length == 0)
            {
                errors.Add("prefix part must be non-empty");
            }
            else
            {
                errors.AddRange(Dns1123Subdomain(parts[0]).Select(e => "prefix part " + e));
            }

            name = parts[1];
        }
        else
        {
            return [RegexError("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QualifiedNameFormat, "MyName", "my.name", "123-abc") + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
        }

        if (name.Length == 0)
        {
            errors.Add("name part must be non-empty");
        }
        else if (name.Length > 63)
        {
            errors.Add("name part must be no more than 63 characters");
        }

        if (name.Length > 0 && !QualifiedNameRegex().IsMatch(name))
        {
            errors.Add("name part " + RegexError("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QualifiedNameFormat, "MyName", "my.name", "123-abc"));
        }

        return errors;
    }

    private static void ValidateAnnotations(JsonNode annotations, List<FieldError> errors)
    {
        if (annotations is not JsonObject map)
        {
            errors.Add(FieldError.Invalid("metadata.annotations", annotations, "must be a map of strings"));
            return;
        }

        long size = 0;
        foreach (var (key, value) in map)
        {
            foreach (var message in QualifiedName(key.ToLowerInvariant()))
            {
                errors.Add(FieldError.Invalid("metadata.annotations", key, message));
            }

            if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
            {
                errors.Add(FieldError.Invalid($"metadata.annotations[{key}]", value, "must be a string"));
                continue;
            }

            size += key.Length + v.GetValue<string>().Length;
        }

        if (size > TotalAnnotationSizeLimit)
        {
            errors.Add(new FieldError(FieldErrorType.TooLong, "metadata.annotations", null, $"may not be more than {TotalAnnotationSizeLimit} bytes"));
        }
    }

    private static string RegexError(string message, string format, params string[] examples) =>
        $"{message} (e.g. {string.Join(",  or ", examples.Select(e => $"'{e}'"))}, regex used for validation is '{format}')";

    [GeneratedRegex("^" + Dns1123SubdomainFormat + "$")]
    private static partial Regex SubdomainRegex();

    [GeneratedRegex("^" + Dns1123LabelFormat + "$")]
    private static partial Regex LabelRegex();

    [GeneratedRegex("^" + Dns1035LabelFormat + "$")]
    private static partial Regex Dns1035Regex();

    [GeneratedRegex("^" + LabelValueFormat + "$")]
    private static partial Regex LabelValueRegex();

    [GeneratedRegex("^" + QualifiedNameFormat + "$")]
    private static partial Regex QualifiedNameRegex();
}
