using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.Tests;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DeepSeekOperator.DevCluster.Tests.Cel;

/// <summary>The repository's DeepSeekModel CRD, read from YAML into JSON nodes (plain scalars typed as YAML 1.2 core does).</summary>
internal static class CrdYaml
{
    private static readonly Lazy<JsonObject> LazyCrd = new(() =>
    {
        var stream = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(Repository.PathOf("crds/deepseekmodels.moe.deepseek-operator.io.yaml")));
        stream.Load(reader);
        return (JsonObject)Convert(stream.Documents[0].RootNode)!;
    });

    /// <summary>The <c>openAPIV3Schema</c> of the CRD's first version.</summary>
    public static JsonObject Schema => (JsonObject)LazyCrd.Value["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!;

    /// <summary>The schema node under <paramref name="path"/> of property names (<c>spec.model.source</c>).</summary>
    public static JsonObject Node(string path) =>
        path.Split('.').Aggregate(Schema, (node, name) => (JsonObject)node["properties"]![name]!);

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Convert(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(Convert)]),
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => Plain(scalar.Value ?? ""),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };

    private static JsonValue? Plain(string text) => text switch
    {
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        "null" or "~" or "" => null,
        _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        _ => JsonValue.Create(text),
    };
}
