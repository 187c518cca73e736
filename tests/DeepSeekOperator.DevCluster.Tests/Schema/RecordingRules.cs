using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal;

namespace DeepSeekOperator.DevCluster.Tests.Schema;

/// <summary>
/// A stand-in for the CEL implementation: records where rules were compiled and evaluated (with the old value each
/// evaluation saw), and fails the nodes whose path is listed in <see cref="Failing"/>.
/// </summary>
internal sealed class RecordingRules : IValidationRules
{
    /// <summary>Paths where evaluation fails with <c>Invalid value: "object": failed</c>.</summary>
    public HashSet<string> Failing { get; } = [];

    /// <summary>The schema paths compiled, in order.</summary>
    public List<string> Compiled { get; } = [];

    /// <summary>Each evaluation: the field path, the value, and the old value when there was one.</summary>
    public List<(string Path, JsonNode? Value, JsonNode? Old, bool HasOld)> Evaluated { get; } = [];

    public IReadOnlyList<FieldError> Compile(JsonObject schema, string schemaPath)
    {
        Compiled.Add(schemaPath);
        return [];
    }

    public IReadOnlyList<FieldError> Evaluate(JsonObject schema, JsonNode? value, JsonNode? oldValue, bool hasOld, string path)
    {
        Evaluated.Add((path, value, oldValue, hasOld));
        return Failing.Contains(path) ? [new FieldError(FieldErrorType.Invalid, path, "\"object\"", "failed")] : [];
    }
}
