using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Schema;

/// <summary>
/// Validates a custom object against the schema of its CRD version, as kube-apiserver does on create and update:
/// the object's name, the OpenAPI schema (with ratcheting of unchanged fields on update), embedded resources,
/// <c>set</c> and <c>map</c> lists, and then the <c>x-kubernetes-validations</c> rules unless an earlier error makes
/// evaluating them pointless.
/// </summary>
internal static class SchemaValidation
{
    /// <summary>The error kube-apiserver adds instead of evaluating rules on an object with type, required, enum or size errors.</summary>
    public const string RulesNotCheckedMessage =
        "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

    /// <summary>
    /// Validates <paramref name="obj"/>, the whole custom object; <paramref name="old"/> is the stored object on an
    /// update and null on a create.
    /// </summary>
    public static IReadOnlyList<FieldError> Validate(JsonNode obj, JsonNode? old, JsonObject schema, IValidationRules rules)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(rules);
        var root = SchemaNode.Of(schema);
        var correlation = Correlation.Of(old, old is not null);
        var errors = new List<FieldError>();
        ObjectMetaValidation.ValidateRoot(obj, errors);
        OpenApiValidator.Validate(root, obj, correlation, string.Empty, errors);
        ObjectMetaValidation.ValidateEmbedded(root, obj, string.Empty, errors);
        ListTypeValidation.Validate(root, obj, errors);
        if (root.SubtreeHasRules)
        {
            if (errors.Any(IsBlocking))
            {
                errors.Add(new FieldError(FieldErrorType.Invalid, "<nil>", GoText.Quote("null"), RulesNotCheckedMessage));
            }
            else
            {
                RuleEvaluation.Evaluate(root, obj, correlation, string.Empty, rules, ratchet: true, errors);
            }
        }

        return errors;
    }

    /// <summary>Errors after which kube-apiserver does not evaluate rules, since they could not make sense of the object.</summary>
    private static bool IsBlocking(FieldError error) =>
        error.Type is FieldErrorType.NotSupported or FieldErrorType.Required or FieldErrorType.TooLong or FieldErrorType.TooMany or FieldErrorType.TypeInvalid;
}
