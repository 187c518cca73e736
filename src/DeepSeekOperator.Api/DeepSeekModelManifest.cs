using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekOperator.Api.Internal;
using DeepSeekOperator.Api.Schema;
using DeepSeekOperator.Api.V1Alpha1;
using k8s;
using k8s.Models;

namespace DeepSeekOperator.Api;

/// <summary>The outcome of reading one DeepSeekModel: the defaulted object when valid, else every error found.</summary>
/// <param name="Model">The model with defaults applied, or null when <paramref name="Errors"/> is not empty.</param>
/// <param name="Errors">The rejected fields, each naming its path.</param>
public sealed record ManifestResult(DeepSeekModel? Model, IReadOnlyList<FieldError> Errors)
{
    /// <summary>Whether the manifest was accepted.</summary>
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Reads and validates DeepSeekModel manifests as the API server would with the generated CRD installed: strict
/// decoding (unknown fields are errors, as with <c>kubectl apply</c>), schema defaults, structural-schema validation,
/// then the cross-field rules. The operator validates objects it reads from the API server with <see cref="Validate"/>.
/// </summary>
public static class DeepSeekModelManifest
{
    private static readonly Lazy<V1JSONSchemaProps> LazySchema =
        new(() => CustomResourceDefinitions.DeepSeekModel().Spec.Versions[0].Schema.OpenAPIV3Schema);

    private static readonly HashSet<string> ObjectMetaFields =
        [.. SchemaBuilder.JsonProperties(typeof(V1ObjectMeta)).Select(SchemaBuilder.JsonName)];

    /// <summary>The OpenAPI schema of the DeepSeekModel CRD.</summary>
    public static V1JSONSchemaProps Schema => LazySchema.Value;

    /// <summary>Reads every document of a YAML or JSON stream.</summary>
    /// <exception cref="FormatException">The text is not YAML.</exception>
    public static IReadOnlyList<ManifestResult> ReadAll(string yaml) => [.. Yaml.ReadDocuments(yaml).Select(Read)];

    /// <summary>Reads the one document of a YAML or JSON text.</summary>
    /// <exception cref="FormatException">The text is not YAML, or holds other than one document.</exception>
    public static ManifestResult Read(string yaml)
    {
        var documents = Yaml.ReadDocuments(yaml);
        return documents.Count == 1 ? Read(documents[0]) : throw new FormatException($"expected one YAML document, found {documents.Count}");
    }

    /// <summary>Defaults and validates one parsed manifest; <paramref name="document"/> is not modified.</summary>
    public static ManifestResult Read(JsonNode? document)
    {
        if (document is not JsonObject original)
        {
            return Failed(new FieldError("<root>", FieldErrorType.Invalid, FieldError.Show(document), "a manifest must be a YAML mapping"));
        }

        var obj = original.DeepClone().AsObject();
        var errors = new List<FieldError>();
        CheckTypeMeta(obj, errors);
        CheckMetadata(obj["metadata"], errors);

        var withoutMetadata = obj.DeepClone().AsObject();
        withoutMetadata.Remove("metadata");
        errors.AddRange(StructuralSchema.UnknownFields(withoutMetadata, Schema));
        if (errors.Count > 0)
        {
            return Failed([.. errors]);
        }

        StructuralSchema.ApplyDefaults(obj, Schema);
        errors.AddRange(StructuralSchema.Validate(obj, Schema));
        if (errors.Count > 0)
        {
            return Failed([.. errors]);
        }

        DeepSeekModel model;
        try
        {
            model = KubernetesJson.Deserialize<DeepSeekModel>(obj.ToJsonString());
        }
        catch (JsonException ex)
        {
            return Failed(new FieldError(ex.Path is { } p ? p.TrimStart('$', '.') : "<root>", FieldErrorType.Invalid, null, ex.Message));
        }

        var ruleErrors = TypedRules.Check(model, string.Empty);
        return ruleErrors.Count > 0 ? Failed([.. ruleErrors]) : new ManifestResult(model, []);
    }

    /// <summary>Validates a typed DeepSeekModel, such as one read from the API server, against the same rules.</summary>
    public static IReadOnlyList<FieldError> Validate(DeepSeekModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Read(JsonNode.Parse(KubernetesJson.Serialize(model))).Errors;
    }

    private static void CheckTypeMeta(JsonObject obj, List<FieldError> errors)
    {
        if (obj["apiVersion"]?.GetValueKind() != JsonValueKind.String || (string?)obj["apiVersion"] != DeepSeekModel.GroupVersion)
        {
            errors.Add(obj["apiVersion"] is null
                ? new FieldError("apiVersion", FieldErrorType.Required, null, $"must be {DeepSeekModel.GroupVersion}")
                : new FieldError("apiVersion", FieldErrorType.NotSupported, FieldError.Show(obj["apiVersion"]), $"supported values: \"{DeepSeekModel.GroupVersion}\""));
        }

        if (obj["kind"]?.GetValueKind() != JsonValueKind.String || (string?)obj["kind"] != DeepSeekModel.KindName)
        {
            errors.Add(obj["kind"] is null
                ? new FieldError("kind", FieldErrorType.Required, null, $"must be {DeepSeekModel.KindName}")
                : new FieldError("kind", FieldErrorType.NotSupported, FieldError.Show(obj["kind"]), $"supported values: \"{DeepSeekModel.KindName}\""));
        }
    }

    private static void CheckMetadata(JsonNode? metadata, List<FieldError> errors)
    {
        if (metadata is not JsonObject meta)
        {
            errors.Add(metadata is null
                ? new FieldError("metadata", FieldErrorType.Required, null, string.Empty)
                : new FieldError("metadata", FieldErrorType.Invalid, FieldError.Show(metadata), "metadata in body must be of type object"));
            return;
        }

        errors.AddRange(meta.Select(p => p.Key).Where(k => !ObjectMetaFields.Contains(k))
            .Select(k => new FieldError(StructuralSchema.Child("metadata", k), FieldErrorType.Unknown, null, string.Empty)));
        if (meta["name"] is null && meta["generateName"] is null)
        {
            errors.Add(new FieldError("metadata.name", FieldErrorType.Required, null, "name or generateName is required"));
        }

        errors.AddRange(StructuralSchema.Validate(meta, Schema.Properties["metadata"], "metadata"));
    }

    private static ManifestResult Failed(params FieldError[] errors) => new(null, errors);
}
