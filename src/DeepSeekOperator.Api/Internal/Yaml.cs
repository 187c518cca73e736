using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DeepSeekOperator.Api.Internal;

/// <summary>
/// Converts between YAML and JSON trees. Plain scalars resolve by the YAML 1.2 core schema (null, booleans,
/// integers, floats, else strings); quoted scalars are always strings. Duplicate keys are an error, as in kubectl.
/// </summary>
internal static partial class Yaml
{
    /// <summary>Reads every document of a YAML stream; empty documents are skipped.</summary>
    /// <exception cref="FormatException">The text is not YAML, or holds what JSON cannot (a duplicate or non-scalar key, infinity).</exception>
    public static IReadOnlyList<JsonNode?> ReadDocuments(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new FormatException($"line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}", ex);
        }

        return [.. stream.Documents
            .Where(d => d.RootNode is not YamlScalarNode { Value: null or "", Style: ScalarStyle.Plain })
            .Select(d => ToJson(d.RootNode))];
    }

    /// <summary>Writes a JSON tree as one YAML document, keeping the order of object members.</summary>
    public static string Write(JsonNode? node)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(writer, new EmitterSettings(2, int.MaxValue, false, 1024, indentSequences: false));
        new YamlStream(new YamlDocument(ToYaml(node))).Save(emitter, assignAnchors: false);
        var text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => ToJsonObject(map),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar => Resolve(scalar),
        _ => throw new FormatException($"line {node.Start.Line}, column {node.Start.Column}: unsupported YAML node"),
    };

    private static JsonObject ToJsonObject(YamlMappingNode map)
    {
        var result = new JsonObject();
        foreach (var (key, value) in map.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                throw new FormatException($"line {key.Start.Line}, column {key.Start.Column}: a mapping key must be a string");
            }

            if (!result.TryAdd(name, ToJson(value)))
            {
                throw new FormatException($"line {key.Start.Line}, column {key.Start.Column}: mapping key \"{name}\" already defined");
            }
        }

        return result;
    }

    private static JsonValue? Resolve(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" || (tag is null && scalar.Style != ScalarStyle.Plain))
        {
            return JsonValue.Create(text);
        }

        if (text is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (text is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return JsonValue.Create(text[0] is 't' or 'T');
        }

        if (Integer().IsMatch(text))
        {
            return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)
                ? JsonValue.Create(integer)
                : JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture));
        }

        if (text.StartsWith("0x", StringComparison.Ordinal) && long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
        {
            return JsonValue.Create(hex);
        }

        if (Float().IsMatch(text))
        {
            return JsonValue.Create(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        }

        if (text is ".inf" or ".Inf" or ".INF" or "+.inf" or "-.inf" or ".nan" or ".NaN" or ".NAN")
        {
            throw new FormatException($"line {scalar.Start.Line}, column {scalar.Start.Column}: {text} cannot be represented in JSON");
        }

        return JsonValue.Create(text);
    }

    /// <summary>Whether a plain scalar with this text would be read back as something other than this string.</summary>
    private static bool NeedsQuotes(string text) =>
        text.Length == 0 || text is "~" or "null" or "Null" or "NULL" or "true" or "True" or "TRUE" or "false" or "False" or "FALSE" ||
        Integer().IsMatch(text) || Float().IsMatch(text) || text.StartsWith("0x", StringComparison.Ordinal) || text.StartsWith('.') ||
        char.IsWhiteSpace(text[0]) || char.IsWhiteSpace(text[^1]);

    private static YamlNode ToYaml(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var map = new YamlMappingNode();
                foreach (var (key, value) in obj)
                {
                    map.Add(Scalar(key), ToYaml(value));
                }

                return map;
            case JsonArray array:
                return new YamlSequenceNode(array.Select(ToYaml));
            case JsonValue value when value.TryGetValue<string>(out var text):
                return Scalar(text);
            case JsonValue value:
                // Numbers and booleans keep their JSON text, which is also a plain YAML scalar of the same value.
                return new YamlScalarNode(value.ToJsonString()) { Style = ScalarStyle.Plain };
            default:
                return new YamlScalarNode("null") { Style = ScalarStyle.Plain };
        }
    }

    private static YamlScalarNode Scalar(string text) =>
        new(text) { Style = NeedsQuotes(text) ? ScalarStyle.SingleQuoted : ScalarStyle.Any };

    [GeneratedRegex("^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Float();
}
