using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Resources;

namespace DeepSeekOperator.DevCluster.Internal.Admission;

/// <summary>Admission of custom objects and checks of CRD schemas.</summary>
internal sealed class CustomResourceAdmission : ICustomAdmission, IValidationRulesCompiler
{
    public IReadOnlyList<FieldError> Admit(ResourceType type, string version, JsonObject obj, JsonObject? old, WriteOptions options) => [];

    public IReadOnlyList<FieldError> Check(JsonObject schema, string path) => [];

    public IReadOnlyList<FieldError> CheckPrinterColumns(JsonArray columns, string path) => [];
}
