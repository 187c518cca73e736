using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace DeepSeekOperator.DevCluster.Internal.Patching;

/// <summary>
/// Decodes the body of an apply patch (<c>application/apply-patch+yaml</c>: YAML, of which JSON is a part) the way
/// kube-apiserver's <c>sigs.k8s.io/yaml</c> does: the first document only, plain scalars resolved as YAML 1.1
/// (<c>yes</c>/<c>on</c> are booleans, <c>0777</c> is octal, <c>~</c> is null), quoted scalars always strings,
/// anchors and aliases followed. A body that does not parse is a 400 <c>error decoding YAML: …</c>.
/// </summary>
internal static partial class ApplyPatchBody
{
    /// <summary>The decoded body: an object for any sensible apply, null for an empty body.</summary>
    public static JsonNode? Parse(string body)
    {
        try
        {
            var parser = new Parser(new StringReader(body));
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }

            parser.Consume<DocumentStart>();
            var anchors = new Dictionary<string, JsonNode?>();
            return Read(parser, anchors);
        }
        catch (YamlException e)
        {
            throw PatchException.BadRequest($"error decoding YAML: error converting YAML to JSON: yaml: line {e.Start.Line}: {FirstLine(e.Message)}");
        }
    }

    private static string FirstLine(string message)
    {
        var text = message.Contains("): ", StringComparison.Ordinal) ? message[(message.IndexOf("): ", StringComparison.Ordinal) + 3)..] : message;
        return text.Split('\n')[0].Trim();
    }

    private static JsonNode? Read(IParser parser, Dictionary<string, JsonNode?> anchors)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            return anchors.TryGetValue(alias.Value.Value, out var target)
                ? target?.DeepClone()
                : throw new YamlException(alias.Start, alias.End, $"unknown anchor '{alias.Value.Value}' referenced");
        }

        if (parser.TryConsume<Scalar>(out var scalar))
        {
            var value = Resolve(scalar);
            Remember(scalar.Anchor, value, anchors);
            return value;
        }

        if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var list = new JsonArray();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                list.Add(Read(parser, anchors));
            }

            Remember(sequenceStart.Anchor, list, anchors);
            return list;
        }

        var mappingStart = parser.Consume<MappingStart>();
        var map = new JsonObject();
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var key = Read(parser, anchors);
            var keyText = key switch
            {
                null => "null",
                JsonValue v => Json.String(v) ?? v.ToJsonString(),
                _ => throw new YamlException(mappingStart.Start, mappingStart.End, "invalid map key: " + key.ToJsonString()),
            };
            map[keyText] = Read(parser, anchors);
        }

        Remember(mappingStart.Anchor, map, anchors);
        return map;
    }

    private static void Remember(AnchorName anchor, JsonNode? value, Dictionary<string, JsonNode?> anchors)
    {
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = value?.DeepClone();
        }
    }

    /// <summary>The YAML 1.1 resolution of go-yaml v2, which <c>sigs.k8s.io/yaml</c> uses.</summary>
    private static JsonValue? Resolve(Scalar scalar)
    {
        var text = scalar.Value;
        if (scalar.Style != ScalarStyle.Plain || !scalar.Tag.IsEmpty)
        {
            return scalar.Tag.IsEmpty || scalar.Tag.Value == "tag:yaml.org,2002:str" ? JsonValue.Create(text) : ResolvePlain(text);
        }

        return ResolvePlain(text);
    }

    private static JsonValue? ResolvePlain(string text)
    {
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "y" or "Y" or "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON":
                return JsonValue.Create(true);
            case "n" or "N" or "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF":
                return JsonValue.Create(false);
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF" or "-.inf" or "-.Inf" or "-.INF" or ".nan" or ".NaN" or ".NAN":
                return JsonValue.Create(text);
        }

        var plain = text.Replace("_", "", StringComparison.Ordinal);
        if (Integer().IsMatch(plain))
        {
            var negative = plain.StartsWith('-');
            var digits = plain.TrimStart('+', '-');
            var (radix, body) = digits switch
            {
                _ when digits.StartsWith("0b", StringComparison.Ordinal) => (2, digits[2..]),
                _ when digits.StartsWith("0x", StringComparison.Ordinal) => (16, digits[2..]),
                _ when digits.Length > 1 && digits[0] == '0' => (8, digits[1..]),
                _ => (10, digits),
            };
            try
            {
                var magnitude = radix == 10
                    ? long.Parse(body, CultureInfo.InvariantCulture)
                    : Convert.ToInt64(body, radix);
                return JsonValue.Create(negative ? -magnitude : magnitude);
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                return double.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var big) ? JsonValue.Create(big) : JsonValue.Create(text);
            }
        }

        if (Float().IsMatch(plain) && double.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }

    [GeneratedRegex("^[-+]?(0b[01]+|0x[0-9a-fA-F]+|[0-9]+)$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
