using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// The metadata checks apiextensions makes beside the schema: the name of a custom object must be a DNS-1123
/// subdomain (<c>ValidateObjectMetaAccessor</c> with <c>NameIsDNSSubdomain</c>), and every embedded resource
/// (<c>x-kubernetes-embedded-resource</c>) needs an <c>apiVersion</c> and a <c>kind</c> (<c>objectmeta.Validate</c>).
/// </summary>
internal static partial class ObjectMetaValidation
{
    private const string Dns1123SubdomainFormat = @"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
    private const string Dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?";

    /// <summary>Checks <c>metadata.name</c> and <c>metadata.generateName</c> of a custom object.</summary>
    public static void ValidateRoot(JsonNode? obj, List<FieldError> errors)
    {
        var metadata = (obj as JsonObject)?["metadata"] as JsonObject;
        var generateName = Json.String(metadata?["generateName"]) ?? string.Empty;
        if (generateName.Length > 0)
        {
            var masked = generateName.EndsWith('-') ? generateName[..^1] + "a" : generateName;
            foreach (var message in Dns1123Subdomain(masked))
            {
                errors.Add(FieldError.Invalid("metadata.generateName", generateName, message));
            }
        }

        var name = Json.String(metadata?["name"]) ?? string.Empty;
        if (name.Length == 0)
        {
            errors.Add(FieldError.Required("metadata.name", "name or generateName is required"));
            return;
        }

        foreach (var message in Dns1123Subdomain(name))
        {
            errors.Add(FieldError.Invalid("metadata.name", name, message));
        }
    }

    /// <summary>Checks the type and object metadata of every embedded resource in a custom object.</summary>
    public static void ValidateEmbedded(SchemaNode schema, JsonNode? value, string path, List<FieldError> errors)
    {
        if (!schema.SubtreeHasEmbeddedResources)
        {
            return;
        }

        switch (value)
        {
            case JsonObject obj:
                if (schema.EmbeddedResource)
                {
                    EmbeddedResource(obj, path, errors);
                }

                foreach (var (key, member) in obj)
                {
                    if (schema.Property(key) is { } property)
                    {
                        ValidateEmbedded(property, member, FieldPath.Child(path, key), errors);
                    }
                    else if (schema.AdditionalProperties is { } additional)
                    {
                        ValidateEmbedded(additional, member, FieldPath.Key(path, key), errors);
                    }
                }

                break;
            case JsonArray array when schema.Items is { } items:
                for (var i = 0; i < array.Count; i++)
                {
                    ValidateEmbedded(items, array[i], FieldPath.Index(path, i), errors);
                }

                break;
        }
    }

    /// <summary>The messages of apimachinery's <c>IsDNS1123Subdomain</c>.</summary>
    public static IEnumerable<string> Dns1123Subdomain(string value)
    {
        if (value.Length > 253)
        {
            yield return "must be no more than 253 characters";
        }

        if (!Dns1123Subdomain().IsMatch(value))
        {
            yield return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character " +
                         $"(e.g. 'example.com', regex used for validation is '{Dns1123SubdomainFormat}')";
        }
    }

    private static void EmbeddedResource(JsonObject obj, string path, List<FieldError> errors)
    {
        if (!obj.ContainsKey("apiVersion"))
        {
            errors.Add(FieldError.Required(FieldPath.Child(path, "apiVersion"), "must not be empty"));
        }

        if (!obj.ContainsKey("kind"))
        {
            errors.Add(FieldError.Required(FieldPath.Child(path, "kind"), "must not be empty"));
        }

        foreach (var (key, member) in obj)
        {
            var field = FieldPath.Child(path, key);
            switch (key)
            {
                case "apiVersion":
                    if (Json.String(member) is not { } apiVersion)
                    {
                        errors.Add(new FieldError(FieldErrorType.Invalid, field, GoText.Value(member), "must be a string"));
                    }
                    else if (apiVersion.Length == 0)
                    {
                        errors.Add(FieldError.Invalid(field, apiVersion, "must not be empty"));
                    }
                    else if (apiVersion != "/" && apiVersion.Count(c => c == '/') > 1)
                    {
                        errors.Add(FieldError.Invalid(field, apiVersion, "unexpected GroupVersion string: " + apiVersion));
                    }

                    break;
                case "kind":
                    if (Json.String(member) is not { } kind)
                    {
                        errors.Add(new FieldError(FieldErrorType.Invalid, field, GoText.Value(member), "must be a string"));
                    }
                    else if (kind.Length == 0)
                    {
                        errors.Add(FieldError.Invalid(field, kind, "must not be empty"));
                    }
                    else if (Dns1035Label(kind.ToLowerInvariant()).ToList() is { Count: > 0 } problems)
                    {
                        errors.Add(FieldError.Invalid(field, kind, "may have mixed case, but should otherwise match: " + string.Join(",", problems)));
                    }

                    break;
                case "metadata" when member is JsonObject metadata:
                    foreach (var name in new[] { "name", "generateName" })
                    {
                        if (Json.String(metadata[name]) is { Length: > 0 } segment)
                        {
                            foreach (var message in PathSegmentName(segment))
                            {
                                errors.Add(FieldError.Invalid(FieldPath.Child(field, name), segment, message));
                            }
                        }
                    }

                    break;
                case "metadata" when member is not null:
                    errors.Add(new FieldError(FieldErrorType.Invalid, field, GoText.Value(member), "must be an object"));
                    break;
            }
        }
    }

    private static IEnumerable<string> Dns1035Label(string value)
    {
        if (value.Length > 63)
        {
            yield return "must be no more than 63 characters";
        }

        if (!Dns1035Label().IsMatch(value))
        {
            yield return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character " +
                         $"(e.g. 'my-name' or 'abc-123', regex used for validation is '{Dns1035LabelFormat}')";
        }
    }

    private static IEnumerable<string> PathSegmentName(string name)
    {
        if (name is "." or "..")
        {
            yield return $"may not be '{name}'";
            yield break;
        }

        foreach (var illegal in new[] { "/", "%" })
        {
            if (name.Contains(illegal, StringComparison.Ordinal))
            {
                yield return $"may not contain '{illegal}'";
            }
        }
    }

    [GeneratedRegex("^" + Dns1123SubdomainFormat + @"\z")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^" + Dns1035LabelFormat + @"\z")]
    private static partial Regex Dns1035Label();
}
