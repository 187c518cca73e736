using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Admission;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Controllers;

/// <summary>
/// What apiextensions-apiserver does for CustomResourceDefinitions: validates them, sets their status
/// (names accepted, established), and turns each into a served <see cref="ResourceType"/>.
/// </summary>
internal static class CustomResources
{
    public const string CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    /// <summary>Validates a CRD about to be stored and, when valid, fills in its status.</summary>
    public static List<FieldError> Admit(JsonObject crd, JsonObject? old, IValidationRulesCompiler compiler, DateTimeOffset now)
    {
        var errors = new List<FieldError>();
        var spec = crd["spec"] as JsonObject;
        if (spec is null)
        {
            errors.Add(FieldError.Required("spec"));
            return errors;
        }

        var group = spec["group"]?.ToString() ?? "";
        var names = spec["names"] as JsonObject ?? [];
        var plural = names["plural"]?.ToString() ?? "";
        var kind = names["kind"]?.ToString() ?? "";
        if (group.Length == 0)
        {
            errors.Add(FieldError.Required("spec.group"));
        }
        else
        {
            errors.AddRange(ObjectMetaValidation.Dns1123Subdomain(group).Select(m => FieldError.Invalid("spec.group", group, m)));
            if (!group.Contains('.', StringComparison.Ordinal))
            {
                errors.Add(FieldError.Invalid("spec.group", group, "should be a domain with at least one dot"));
            }
        }

        if (plural.Length == 0)
        {
            errors.Add(FieldError.Required("spec.names.plural"));
        }
        else
        {
            errors.AddRange(ObjectMetaValidation.Dns1123Label(plural).Select(m => FieldError.Invalid("spec.names.plural", plural, m)));
        }

        if (names["singular"]?.ToString() is { Length: > 0 } singular)
        {
            errors.AddRange(ObjectMetaValidation.Dns1123Label(singular).Select(m => FieldError.Invalid("spec.names.singular", singular, m)));
        }

        if (kind.Length == 0)
        {
            errors.Add(FieldError.Required("spec.names.kind"));
        }

        var name = Meta.Name(crd);
        if (plural.Length > 0 && group.Length > 0 && name != $"{plural}.{group}")
        {
            errors.Add(FieldError.Invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
        }

        var scope = spec["scope"]?.ToString();
        if (scope is not ("Namespaced" or "Cluster"))
        {
            errors.Add(scope is null ? FieldError.Required("spec.scope") : FieldError.NotSupported("spec.scope", spec["scope"], ["Cluster", "Namespaced"]));
        }

        if (old?["spec"]?["scope"]?.ToString() is { } oldScope && scope is not null && oldScope != scope)
        {
            errors.Add(FieldError.Invalid("spec.scope", scope, "field is immutable"));
        }

        var versions = spec["versions"] as JsonArray ?? [];
        if (versions.Count == 0)
        {
            errors.Add(FieldError.Invalid("spec.versions", versions, "must have exactly one version marked as storage version"));
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var storage = 0;
        for (var i = 0; i < versions.Count; i++)
        {
            var version = versions[i] as JsonObject ?? [];
            var path = $"spec.versions[{i}]";
            var versionName = version["name"]?.ToString() ?? "";
            if (versionName.Length == 0)
            {
                errors.Add(FieldError.Required($"{path}.name"));
            }
            else
            {
                errors.AddRange(ObjectMetaValidation.Dns1035Label(versionName).Select(m => FieldError.Invalid($"{path}.name", versionName, m)));
                if (!seen.Add(versionName))
                {
                    errors.Add(FieldError.Duplicate($"{path}.name", JsonValue.Create(versionName)));
                }
            }

            if (Json.Bool(version["storage"]) == true)
            {
                storage++;
            }

            if (version["schema"]?["openAPIV3Schema"] is JsonObject schema)
            {
                errors.AddRange(compiler.Check(schema, $"{path}.schema.openAPIV3Schema"));
            }
            else
            {
                errors.Add(FieldError.Required($"{path}.schema.openAPIV3Schema", "schemas are required"));
            }

            if (version["additionalPrinterColumns"] is JsonArray columns)
            {
                errors.AddRange(compiler.CheckPrinterColumns(columns, $"{path}.additionalPrinterColumns"));
            }
        }

        if (versions.Count > 0 && storage != 1)
        {
            errors.Add(FieldError.Invalid("spec.versions", versions, "must have exactly one version marked as storage version"));
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        var finalizers = Meta.Finalizers(crd).ToList();
        if (!finalizers.Contains(CleanupFinalizer) && !Meta.IsDeleting(crd))
        {
            finalizers.Add(CleanupFinalizer);
            Meta.SetFinalizers(crd, finalizers);
        }

        var storageVersion = versions.OfType<JsonObject>().First(v => Json.Bool(v["storage"]) == true)["name"]!.ToString();
        var storedVersions = (old?["status"]?["storedVersions"] as JsonArray)?.Select(v => v!.ToString()).ToList() ?? [];
        if (!storedVersions.Contains(storageVersion))
        {
            storedVersions.Add(storageVersion);
        }

        var accepted = (JsonObject)names.DeepClone();
        accepted["singular"] ??= plural.Length > 0 ? kind.ToLowerInvariant() : "";
        accepted["listKind"] ??= kind + "List";
        var timestamp = Meta.Timestamp(now);
        var oldConditions = old?["status"]?["conditions"] as JsonArray;
        crd["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(
                Condition("NamesAccepted", "True", "NoConflicts", "no conflicts found", oldConditions, timestamp),
                Condition("Established", "True", "InitialNamesAccepted", "the initial names have been accepted", oldConditions, timestamp)),
            ["acceptedNames"] = accepted,
            ["storedVersions"] = new JsonArray([.. storedVersions.Select(v => (JsonNode)v)]),
        };
        return errors;
    }

    /// <summary>The resource a stored CRD serves.</summary>
    public static ResourceType ToResourceType(JsonObject crd)
    {
        var spec = crd["spec"]!;
        var names = spec["names"]!;
        var versions = ((JsonArray)spec["versions"]!).OfType<JsonObject>().Select(v => new CustomVersion(
            v["name"]!.ToString(),
            Json.Bool(v["served"]) ?? false,
            Json.Bool(v["storage"]) ?? false,
            v["schema"]?["openAPIV3Schema"] as JsonObject,
            v["additionalPrinterColumns"] as JsonArray)).ToList();
        var statusVersions = versions.Where(v => v.Served).Select(v => v.Name).OrderBy(v => v, VersionComparer.Instance).ToList();
        var kind = names["kind"]!.ToString();
        var scaleVersion = ((JsonArray)spec["versions"]!).OfType<JsonObject>().FirstOrDefault(v => v["subresources"]?["scale"] is JsonObject);
        var scale = scaleVersion?["subresources"]?["scale"];
        return new ResourceType
        {
            Group = spec["group"]!.ToString(),
            Versions = statusVersions,
            Kind = kind,
            Plural = names["plural"]!.ToString(),
            Singular = names["singular"]?.ToString() ?? kind.ToLowerInvariant(),
            Namespaced = spec["scope"]?.ToString() == "Namespaced",
            ShortNames = (names["shortNames"] as JsonArray)?.Select(s => s!.ToString()).ToList() ?? [],
            Categories = (names["categories"] as JsonArray)?.Select(s => s!.ToString()).ToList() ?? [],
            HasStatus = ((JsonArray)spec["versions"]!).OfType<JsonObject>().Any(v => v["subresources"]?["status"] is JsonObject),
            Scale = scale is null ? null : new ScaleSpec(
                scale["specReplicasPath"]?.ToString() ?? ".spec.replicas",
                scale["statusReplicasPath"]?.ToString() ?? ".status.replicas",
                scale["labelSelectorPath"]?.ToString()),
            HasGeneration = true,
            UnconditionalUpdate = false,
            Custom = new CustomDefinition(Meta.Name(crd), Meta.Uid(crd), versions),
        };
    }

    private static JsonObject Condition(string type, string status, string reason, string message, JsonArray? old, string now)
    {
        var previous = old?.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.ToString() == type);
        var since = previous is not null && previous["status"]?.ToString() == status ? previous["lastTransitionTime"]?.ToString() ?? now : now;
        return new JsonObject
        {
            ["type"] = type,
            ["status"] = status,
            ["lastTransitionTime"] = since,
            ["reason"] = reason,
            ["message"] = message,
        };
    }
}

/// <summary>Checks a CRD version's schema (structural rules, CEL rules) and printer columns at CRD creation.</summary>
internal interface IValidationRulesCompiler
{
    IReadOnlyList<FieldError> Check(JsonObject schema, string path);

    IReadOnlyList<FieldError> CheckPrinterColumns(JsonArray columns, string path);
}
