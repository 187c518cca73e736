using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace DeepSeekOperator.Deploy.Tests;

/// <summary>Multi-document YAML as JSON objects, of any kind (known to the client library or not).</summary>
internal static class Manifests
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build();

    /// <summary>Every non-empty document of <paramref name="yaml"/>.</summary>
    public static List<JsonObject> Parse(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        var documents = new List<JsonObject>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var value = Yaml.Deserialize(parser);
            if (ToJson(value) is JsonObject document)
            {
                documents.Add(document);
            }
        }

        return documents;
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        IDictionary<object, object> map => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key.ToString()!, ToJson(p.Value)))),
        IList<object> list => new JsonArray([.. list.Select(ToJson)]),
        _ => JsonSerializer.SerializeToNode(value),
    };

    public static string Kind(this JsonObject document) => (string)document["kind"]!;

    public static string Name(this JsonObject document) => (string)document["metadata"]!["name"]!;

    /// <summary>The rules of an RBAC role, each as "apiGroup resource verbs", in a set.</summary>
    public static SortedSet<string> Rules(this JsonObject role) =>
        new(
            (role["rules"] as JsonArray ?? []).SelectMany(rule =>
                from apiGroup in rule!["apiGroups"]!.AsArray()
                from resource in rule["resources"]!.AsArray()
                select $"{(string)apiGroup!} {(string)resource!} {string.Join(',', rule["verbs"]!.AsArray().Select(v => (string)v!))}"),
            StringComparer.Ordinal);
}
