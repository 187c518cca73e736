using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// The metadata checks apiextensions makes beside the schema: the name of a custom object must be a DNS-1123
/// subdomain (<c>ValidateObjectMetaAccessor</c> with <c>NameIsDNSSubdomain</c>), and every embedded resource
/// (<c>x-kubernetes-embedded-resource</c>) needs an <c>apiVersion</c> and a <c>kind</c> (<c>objectmeta.Validate</c>).
/// </summary>
internal static class ObjectMetaValidation
{
    /// <summary>Checks <c>metadata.name</c> and <c>metadata.generateName</c> of a custom object.</summary>
    public static void ValidateRoot(JsonNode? obj, List<FieldError> errors)
    {
        var metadata = (obj as JsonObject)?["metadata"] as JsonObject;
        var generateName = Json.String(metadata?["generateName"]) ?? string.Empty;
        if (generateName.Length > 0)
        {
            var masked = generateName.EndsWith('-') ? generateName[..^1] + "a" : generateName;
            foreach (var message in NameValidation.IsDns1123Subdomain(masked))
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

        foreach (var message in NameValidation.IsDns1123Subdomain(name))
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
                    else if (NameValidation.IsDns1035Label(kind.ToLowerInvariant()) is { Count: > 0 } problems)
                    {
                        errors.Add(FieldError.Invalid(field, kind, "may have mixed case, but should otherwise match: " + string.Join(",", problems)));
                    }

                    break;
                case "metadata" when member is JsonObject metadata:
                    foreach (var name in new[] { "name", "generateName" })
                    {
                        if (Json.String(metadata[name]) is { Length: > 0 } segment)
                        {
                            foreach (var message in NameValidation.IsValidPathSegmentName(segment))
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
}
