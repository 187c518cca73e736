using System.Text.Json.Nodes;
using static DeepSeekOperator.DevCluster.Internal.Schema.SchemaJson;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Checks the defaults of a structural schema as apiextensions' <c>structuraldefaulting.ValidateDefaults</c> does:
/// each default must survive pruning unchanged (<c>must not have unknown fields</c>), be a valid embedded resource
/// where it is one, validate against its own schema node (errors under <c>….default</c>), and pass its CEL rules.
/// Defaults under <c>additionalProperties</c> are not followed, as they are forbidden there.
/// </summary>
internal static class SchemaDefaultsCheck
{
    /// <summary>Appends the errors of every default in <paramref name="schema"/>, the root of a resource.</summary>
    public static void Check(JsonObject schema, string path, IValidationRules rules, List<FieldError> errors) =>
        Node(schema, path, isResourceRoot: true, insideMeta: false, rules, errors);

    private static void Node(JsonObject s, string path, bool isResourceRoot, bool insideMeta, IValidationRules rules, List<FieldError> errors)
    {
        var embedded = isResourceRoot || Flag(s, "x-kubernetes-embedded-resource");
        insideMeta = !embedded && insideMeta;
        if (s["default"] is { } value)
        {
            Default(SchemaNode.Of(s), value, Child(path, "default"), embedded, insideMeta, rules, errors);
        }

        if (s["items"] is JsonObject items)
        {
            Node(items, Child(path, "items"), false, insideMeta, rules, errors);
        }

        foreach (var (name, property) in Map(s, "properties"))
        {
            var meta = embedded && name is "metadata" or "apiVersion" or "kind";
            Node(property, Key(path, "properties", name), false, insideMeta || meta, rules, errors);
        }
    }

    private static void Default(SchemaNode node, JsonNode value, string path, bool embedded, bool insideMeta, IValidationRules rules, List<FieldError> errors)
    {
        if (!insideMeta)
        {
            var pruned = new List<string>();
            SchemaPruning.Prune(value.DeepClone(), node, embedded, string.Empty, pruned);
            if (pruned.Count > 0)
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, path, GoText.Value(value), "must not have unknown fields"));
            }

            var meta = new List<FieldError>();
            ObjectMetaValidation.ValidateEmbedded(node, value, path, meta);
            if (meta.Count > 0)
            {
                errors.AddRange(meta);
                return;
            }
        }

        var found = new List<FieldError>();
        OpenApiValidator.Validate(node, value, Correlation.None, path, found);
        if (found.Count == 0)
        {
            RuleEvaluation.Evaluate(node, value, Correlation.Of(value, true), path, rules, ratchet: false, found);
        }

        errors.AddRange(found);
    }
}
