using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal;

/// <summary>
/// The <c>x-kubernetes-validations</c> rules of a CRD schema: compiled when the CRD is created,
/// evaluated for every create and update of a custom object.
/// </summary>
internal interface IValidationRules
{
    /// <summary>
    /// Compiles every rule of one schema node (its <c>x-kubernetes-validations</c> list); a rule that cannot be
    /// compiled or evaluated gives an error naming the rule at <paramref name="schemaPath"/>
    /// (<c>spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule</c>).
    /// </summary>
    IReadOnlyList<FieldError> Compile(JsonObject schema, string schemaPath);

    /// <summary>
    /// Evaluates the rules of one schema node against <paramref name="value"/> at field path <paramref name="path"/>.
    /// <paramref name="hasOld"/> is true on an update where the same field existed before, with <paramref name="oldValue"/>;
    /// transition rules (those that use <c>oldSelf</c>) run only then.
    /// </summary>
    IReadOnlyList<FieldError> Evaluate(JsonObject schema, JsonNode? value, JsonNode? oldValue, bool hasOld, string path);
}
