using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DeepSeekOperator.Api.Internal;
using DeepSeekOperator.Api.V1Alpha1;

namespace DeepSeekOperator.Api.Tests;

public class CrdGenerationTests
{
    private static readonly JsonNode Crd = Yaml.ReadDocuments(CustomResourceDefinitions.DeepSeekModelYaml()).Single()!;

    [Fact]
    public void CheckedInCrd_MatchesGeneratorOutput()
    {
        var checkedIn = File.ReadAllText(SchemaFiles.CrdPath);
        var generated = CustomResourceDefinitions.DeepSeekModelYaml();
        Assert.True(checkedIn == generated,
            $"{SchemaFiles.CrdPath} does not reflect the current API types; run 'make manifests' and commit the result.");
    }

    [Fact]
    public void Crd_DeclaresNamesScopeAndVersion()
    {
        var spec = Crd["spec"]!;
        Assert.Equal("deepseekmodels.moe.deepseek-operator.io", (string?)Crd["metadata"]!["name"]);
        Assert.Equal("moe.deepseek-operator.io", (string?)spec["group"]);
        Assert.Equal("Namespaced", (string?)spec["scope"]);
        Assert.Equal("DeepSeekModel", (string?)spec["names"]!["kind"]);
        Assert.Equal("deepseekmodels", (string?)spec["names"]!["plural"]);
        Assert.Equal("deepseekmodel", (string?)spec["names"]!["singular"]);
        Assert.Equal(["dsm"], spec["names"]!["shortNames"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["ai", "moe"], spec["names"]!["categories"]!.AsArray().Select(n => (string)n!));
        var version = spec["versions"]!.AsArray().Single()!;
        Assert.Equal("v1alpha1", (string?)version["name"]);
        Assert.True((bool)version["served"]! && (bool)version["storage"]!);
        Assert.NotNull(version["subresources"]!["status"]);
    }

    [Fact]
    public void Crd_PrinterColumns_AreReadyRoutersShardsExpertsPlacementImbalanceEndpointAge_AndDesiredRoutersWhenWide()
    {
        var columns = Crd["spec"]!["versions"]![0]!["additionalPrinterColumns"]!.AsArray();
        Assert.Equal(["Ready", "Routers", "Shards", "Experts", "Placement", "Imbalance", "Endpoint", "Desired Routers", "Age"], columns.Select(c => (string)c!["name"]!));
        Assert.Equal(".status.conditions[?(@.type==\"Ready\")].status", (string?)columns[0]!["jsonPath"]);
        Assert.Equal("number", (string?)columns[5]!["type"]);
        Assert.Equal(1L, (long?)columns[7]!["priority"]);
        Assert.Equal("date", (string?)columns[8]!["type"]);

        // Every column's path must exist in the schema, or kubectl shows an empty column forever.
        var schema = SchemaFiles.OpenApiSchema(Crd);
        foreach (var path in columns.Select(c => (string)c!["jsonPath"]!).Where(p => !p.StartsWith(".metadata", StringComparison.Ordinal)))
        {
            JsonNode? node = schema;
            foreach (var part in Regex.Replace(path, @"\[[^\]]*\]", string.Empty).TrimStart('.').Split('.'))
            {
                node = node?["type"]?.GetValue<string>() == "array" ? node["items"]!["properties"]?[part] : node?["properties"]?[part];
            }

            Assert.True(node is not null, $"printer column path {path} is not in the schema");
        }
    }

    [Fact]
    public void Schema_IsStructural()
    {
        var violations = StructuralSchemaRules.Violations(SchemaFiles.OpenApiSchema(Crd));
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void StructuralSchemaRules_RejectEachNonStructuralShape()
    {
        // The checker itself must be able to fail: one schema per rule of "Specifying a structural schema".
        JsonObject Root(JsonObject spec) => new() { ["type"] = "object", ["properties"] = new JsonObject { ["spec"] = spec } };
        Assert.Contains(StructuralSchemaRules.Violations(Root(new JsonObject { ["properties"] = new JsonObject() })), v => v.Contains("no type", StringComparison.Ordinal));
        Assert.Contains(StructuralSchemaRules.Violations(Root(new JsonObject
        {
            ["type"] = "object",
            ["anyOf"] = new JsonArray(new JsonObject { ["properties"] = new JsonObject { ["a"] = new JsonObject { ["type"] = "string" } } }),
        })), v => v.Contains("not specified outside", StringComparison.Ordinal));
        Assert.Contains(StructuralSchemaRules.Violations(Root(new JsonObject
        {
            ["type"] = "string",
            ["anyOf"] = new JsonArray(new JsonObject { ["description"] = "inside" }),
        })), v => v.Contains("inside anyOf", StringComparison.Ordinal));
        var metadata = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject { ["metadata"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["labels"] = new JsonObject { ["type"] = "object" } } } },
        };
        Assert.Contains(StructuralSchemaRules.Violations(metadata), v => v.Contains("metadata", StringComparison.Ordinal));
        Assert.Contains(StructuralSchemaRules.Violations(Root(new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject(),
            ["additionalProperties"] = new JsonObject { ["type"] = "string" },
        })), v => v.Contains("both properties and additionalProperties", StringComparison.Ordinal));
    }

    [Fact]
    public void Schema_DescribesEveryFieldOfTheApiTypes()
    {
        var missing = new List<string>();
        void Walk(JsonNode? node, string path)
        {
            if (node is not JsonObject schema)
            {
                return;
            }

            if (path.Length > 0 && string.IsNullOrWhiteSpace((string?)schema["description"]))
            {
                missing.Add(path);
            }

            foreach (var (name, child) in schema["properties"]?.AsObject() ?? [])
            {
                Walk(child, path.Length == 0 ? name : path + "." + name);
            }
        }

        var root = SchemaFiles.OpenApiSchema(Crd);
        Walk(root["properties"]!["spec"], "spec");
        Walk(root["properties"]!["status"], "status");
        Assert.True(missing.Count == 0, "fields without a description: " + string.Join(", ", missing));
    }

    [Fact]
    public void Schema_RequiredFieldsAndCrossFieldRules_ComeFromTheTypes()
    {
        var spec = SchemaFiles.OpenApiSchema(Crd)["properties"]!["spec"]!;
        Assert.Equal(["model"], spec["required"]!.AsArray().Select(r => (string)r!));
        Assert.Equal(["source"], spec["properties"]!["model"]!["required"]!.AsArray().Select(r => (string)r!));
        var source = spec["properties"]!["model"]!["properties"]!["source"]!;
        Assert.Equal(ModelSource.CelRules.Single().Rule, (string?)source["x-kubernetes-validations"]![0]!["rule"]);
        Assert.Equal(".minReplicas", (string?)spec["properties"]!["autoscaling"]!["properties"]!["routers"]!["x-kubernetes-validations"]![0]!["fieldPath"]);
        Assert.Equal(1024, (long)spec["properties"]!["experts"]!["properties"]!["shards"]!["maximum"]!);
    }
}
