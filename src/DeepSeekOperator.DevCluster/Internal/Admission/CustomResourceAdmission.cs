using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Cel;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Query;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Schema;

namespace DeepSeekOperator.DevCluster.Internal.Admission;

/// <summary>
/// Admission of custom objects as apiextensions-apiserver does it: prune unknown fields (an error under
/// <c>fieldValidation=Strict</c>, a warning under <c>Warn</c>), apply schema defaults, validate against the structural
/// schema and evaluate the <c>x-kubernetes-validations</c> CEL rules. Also checks a CRD's schemas and printer columns.
/// </summary>
internal sealed class CustomResourceAdmission : ICustomAdmission, IValidationRulesCompiler
{
    private static readonly string[] ColumnTypes = ["integer", "number", "string", "boolean", "date"];
    private readonly CelValidationRules rules = new();

    public IReadOnlyList<FieldError> Admit(ResourceType type, string version, JsonObject obj, JsonObject? old, WriteOptions options)
    {
        if (type.Custom?.Version(version)?.Schema is not { } schema)
        {
            return [];
        }

        BuiltinSchemas.ReportUnknown(type, version, SchemaPruning.Prune(obj, schema), options);
        SchemaDefaulting.ApplyDefaults(obj, schema);
        return SchemaValidation.Validate(obj, old, schema, rules);
    }

    public IReadOnlyList<FieldError> Check(JsonObject schema, string path) => StructuralSchema.CheckStructural(schema, path, rules);

    public IReadOnlyList<FieldError> CheckPrinterColumns(JsonArray columns, string path)
    {
        var errors = new List<FieldError>();
        for (var i = 0; i < columns.Count; i++)
        {
            var at = $"{path}[{i}]";
            if (columns[i] is not JsonObject column)
            {
                errors.Add(FieldError.Invalid(at, columns[i], "must be an object"));
                continue;
            }

            if (string.IsNullOrEmpty(Json.String(column["name"])))
            {
                errors.Add(FieldError.Required($"{at}.name"));
            }

            var columnType = Json.String(column["type"]);
            if (columnType is null)
            {
                errors.Add(FieldError.Required($"{at}.type"));
            }
            else if (!ColumnTypes.Contains(columnType))
            {
                errors.Add(FieldError.NotSupported($"{at}.type", column["type"], ColumnTypes));
            }

            if (Json.Int64(column["priority"]) is < 0)
            {
                errors.Add(FieldError.Invalid($"{at}.priority", column["priority"], "must be greater than or equal to 0"));
            }

            var jsonPath = Json.String(column["jsonPath"]);
            if (string.IsNullOrEmpty(jsonPath))
            {
                errors.Add(FieldError.Required($"{at}.JSONPath"));
            }
            else if (!JsonPath.TryParse(jsonPath, out _, out var error))
            {
                errors.Add(FieldError.Invalid($"{at}.JSONPath", jsonPath, $"must be a simple json path: {error!.Message}"));
            }
        }

        return errors;
    }
}
