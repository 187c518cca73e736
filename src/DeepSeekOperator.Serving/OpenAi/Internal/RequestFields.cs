using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>
/// Typed reads of a request's JSON object. A field that is absent or <c>null</c> reads as <see langword="null"/>;
/// one of the wrong type is a 400 naming it (with <paramref name="prefix"/>, for fields of nested objects).
/// </summary>
internal sealed class RequestFields(JsonObject body, string prefix = "")
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false };

    /// <summary>Reads the request's body, which must be a JSON object.</summary>
    public static async Task<RequestFields> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonNode? node;
        try
        {
            node = await JsonNode.ParseAsync(request.Body, documentOptions: DocumentOptions, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw OpenAiErrorException.Invalid(null, $"The request body is not valid JSON: {e.Message}");
        }

        return node is JsonObject body ? new RequestFields(body) : throw OpenAiErrorException.Invalid(null, "The request body must be a JSON object.");
    }

    /// <summary>The full name of field <paramref name="name"/>, as errors give it.</summary>
    public string Name(string name) => prefix + name;

    /// <summary>The field's value, unchecked.</summary>
    public JsonNode? Node(string name) => body.TryGetPropertyValue(name, out var value) ? value : null;

    public string? String(string name) => Checked(name, JsonValueKind.String, "a string")?.GetValue<string>();

    public bool? Boolean(string name) => Node(name) switch
    {
        null => null,
        var node when node.GetValueKind() is JsonValueKind.True or JsonValueKind.False => node.GetValue<bool>(),
        var node => throw OpenAiErrorException.Invalid(Name(name), $"{Name(name)} must be a boolean, got {node.ToJsonString()}."),
    };

    public double? Number(string name) => Checked(name, JsonValueKind.Number, "a number") is { } node ? node.GetValue<double>() : null;

    /// <summary>An integer field, which must lie in [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public long? Integer(string name, long minimum, long maximum)
    {
        if (Checked(name, JsonValueKind.Number, "an integer") is not { } node)
        {
            return null;
        }

        if (!node.AsValue().TryGetValue<long>(out var value))
        {
            throw OpenAiErrorException.Invalid(Name(name), $"{Name(name)} must be an integer, got {node.ToJsonString()}.");
        }

        if (value < minimum || value > maximum)
        {
            var range = maximum == long.MaxValue ? $"at least {minimum}" : $"in [{minimum}, {maximum}]";
            throw OpenAiErrorException.Invalid(Name(name), $"{Name(name)} must be {range}, got {value.ToString(CultureInfo.InvariantCulture)}.");
        }

        return value;
    }

    public JsonArray? Array(string name) => Checked(name, JsonValueKind.Array, "an array")?.AsArray();

    public JsonObject? Object(string name) => Checked(name, JsonValueKind.Object, "an object")?.AsObject();

    /// <summary>Refuses a field this server does not implement unless it is absent, <c>null</c> or <paramref name="harmless"/>.</summary>
    public void Unsupported(string name, Func<JsonNode, bool> harmless)
    {
        if (Node(name) is { } node && !harmless(node))
        {
            throw OpenAiErrorException.Invalid(Name(name), $"{Name(name)} is not supported by this server, got {node.ToJsonString()}.");
        }
    }

    private JsonNode? Checked(string name, JsonValueKind kind, string expected)
    {
        var node = Node(name);
        return node is null || node.GetValueKind() == kind
            ? node
            : throw OpenAiErrorException.Invalid(Name(name), $"{Name(name)} must be {expected}, got {node.ToJsonString()}.");
    }
}
