using System.Text.Json.Nodes;
using DeepSeekOperator.Api.Internal;

namespace DeepSeekOperator.Api.Tests;

public class InvalidManifestTests
{
    private static readonly JsonObject OpenApi = SchemaFiles.OpenApiSchema(Yaml.ReadDocuments(File.ReadAllText(SchemaFiles.CrdPath)).Single()!);
    private static readonly NJsonSchema.JsonSchema JsonSchema = SchemaFiles.ToJsonSchema(OpenApi);

    [Theory]
    [MemberData(nameof(ManifestTestData.InvalidManifests), MemberType = typeof(ManifestTestData))]
    public void InvalidManifest_IsRejectedWithTheMessageThatNamesItsField(string file)
    {
        var text = File.ReadAllText(Path.Combine(ManifestTestData.InvalidDirectory, file));
        var expected = ManifestTestData.ExpectedErrors(text);
        Assert.NotEmpty(expected);

        var result = DeepSeekModelManifest.Read(text);
        Assert.False(result.IsValid, $"{file} was accepted");
        Assert.Equal(expected, result.Errors.Select(e => e.ToString()));
    }

    [Theory]
    [MemberData(nameof(ManifestTestData.InvalidManifests), MemberType = typeof(ManifestTestData))]
    public void InvalidManifest_BreakingASchemaRule_IsRejectedByAJsonSchemaValidatorAtTheSameField(string file)
    {
        var text = File.ReadAllText(Path.Combine(ManifestTestData.InvalidDirectory, file));
        var expected = ManifestTestData.ExpectedErrors(text).Single();
        if (CelMessages().Any(m => expected.EndsWith(": " + m, StringComparison.Ordinal)))
        {
            // A CEL rule: the API server evaluates it, a JSON-schema validator cannot; the test above covers its C# form.
            return;
        }

        var errors = JsonSchema.Validate(Yaml.ReadDocuments(text).Single()!.ToJsonString());
        var field = expected.StartsWith("unknown field \"", StringComparison.Ordinal) ? expected.Split('"')[1] : expected.Split(": ")[0];
        // NJsonSchema writes paths as #/spec.router.resources.limits.memory; ours index maps as limits[memory].
        var jsonSchemaPath = "#/" + field.Replace("[", ".", StringComparison.Ordinal).Replace("]", string.Empty, StringComparison.Ordinal);
        Assert.True(errors.Any(e => Flatten(e).Any(p => p == jsonSchemaPath || p.StartsWith(jsonSchemaPath + ".", StringComparison.Ordinal))),
            $"expected an error at {jsonSchemaPath}, got: " + string.Join("; ", errors.SelectMany(Flatten)));
    }

    [Fact]
    public void EveryRuleOfTheSchema_HasAnInvalidManifest()
    {
        var covered = Directory.GetFiles(ManifestTestData.InvalidDirectory, "*.yaml")
            .SelectMany(f => ManifestTestData.ExpectedErrors(File.ReadAllText(f))).ToList();
        var missing = new List<string>();
        foreach (var (path, rule) in Rules(OpenApi, string.Empty))
        {
            var found = rule switch
            {
                "required" => covered.Contains($"{path}: Required value"),
                "enum" => covered.Any(e => e.StartsWith($"{path}: Unsupported value: ", StringComparison.Ordinal)),
                "minimum" => covered.Any(e => e.StartsWith($"{path}: Invalid value: ", StringComparison.Ordinal) && e.Contains(" in body should be greater than", StringComparison.Ordinal)),
                "maximum" => covered.Any(e => e.StartsWith($"{path}: Invalid value: ", StringComparison.Ordinal) && e.Contains(" in body should be less than", StringComparison.Ordinal)),
                "pattern" => covered.Any(e => e.StartsWith($"{path}: Invalid value: ", StringComparison.Ordinal) && e.Contains(" in body should match ", StringComparison.Ordinal)),
                "maxLength" => covered.Contains($"{path}: Too long: may not be more than {(long)Find(OpenApi, path)!["maxLength"]!} bytes"),
                "maxItems" => covered.Any(e => e.StartsWith($"{path}: Too many: ", StringComparison.Ordinal)),
                _ => covered.Any(e => e.EndsWith(": " + rule, StringComparison.Ordinal) && e.StartsWith(path, StringComparison.Ordinal)),
            };
            if (!found)
            {
                missing.Add($"{path} {rule}");
            }
        }

        Assert.True(missing.Count == 0, "rules without an invalid manifest in testdata/invalid:\n" + string.Join("\n", missing));
    }

    // Every rule of the DeepSeekModel's own fields: not status (written by the operator), not inside Kubernetes' own types.
    private static IEnumerable<(string Path, string Rule)> Rules(JsonObject schema, string path)
    {
        foreach (var keyword in new[] { "enum", "minimum", "maximum", "pattern", "maxLength", "maxItems" }.Where(k => schema[k] is not null))
        {
            yield return (path, keyword);
        }

        foreach (var rule in schema["x-kubernetes-validations"]?.AsArray() ?? [])
        {
            yield return (path + ((string?)rule!["fieldPath"] ?? string.Empty), (string)rule["message"]!);
        }

        foreach (var required in schema["required"]?.AsArray() ?? [])
        {
            yield return (Child(path, (string)required!), "required");
        }

        foreach (var (name, child) in schema["properties"]?.AsObject() ?? [])
        {
            var childPath = Child(path, name);
            if (childPath is not ("status" or "apiVersion" or "kind") && !IsKubernetesType(childPath))
            {
                foreach (var rule in Rules(child!.AsObject(), childPath))
                {
                    yield return rule;
                }
            }
        }
    }

    private static bool IsKubernetesType(string path) =>
        path.EndsWith(".resources", StringComparison.Ordinal) || path.EndsWith(".affinity", StringComparison.Ordinal) ||
        path.EndsWith(".tolerations", StringComparison.Ordinal) || path.EndsWith(".nodeSelector", StringComparison.Ordinal);

    private static string Child(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private static JsonNode? Find(JsonObject schema, string path) =>
        path.Split('.').Aggregate((JsonNode?)schema, (node, part) => node?["properties"]?[part]);

    private static IEnumerable<string> CelMessages() =>
        Rules(OpenApi, string.Empty).Select(r => r.Rule).Where(r => r.Contains(' ', StringComparison.Ordinal));

    private static IEnumerable<string> Flatten(NJsonSchema.Validation.ValidationError error) =>
        error is NJsonSchema.Validation.ChildSchemaValidationError child
            ? [error.Path ?? "#", .. child.Errors.SelectMany(e => e.Value).SelectMany(Flatten)]
            : [error.Path ?? "#"];
}
