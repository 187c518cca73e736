using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Admission;

/// <summary>The checks apimachinery's <c>ValidateObjectMeta</c> makes, with its messages.</summary>
internal static class ObjectMetaValidation
{
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

    public static IReadOnlyList<string> Dns1123Subdomain(string value) => NameValidation.IsDns1123Subdomain(value);

    public static IReadOnlyList<string> Dns1123Label(string value) => NameValidation.IsDns1123LabelName(value);

    public static IReadOnlyList<string> Dns1035Label(string value) => NameValidation.IsDns1035Label(value);

    public static IReadOnlyList<string> PathSegment(string value) => NameValidation.IsValidPathSegmentName(value);

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
            errors.AddRange(NameValidation.IsValidLabelValue(text).Select(m => FieldError.Invalid(path, text, m)));
        }
    }

    /// <summary>The errors of a qualified name (<c>prefix/name</c>), as label keys and finalizers are.</summary>
    public static IReadOnlyList<string> QualifiedName(string value) => NameValidation.IsQualifiedName(value);

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
}
