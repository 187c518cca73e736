using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>Which endpoint a request came to.</summary>
internal enum CompletionKind
{
    /// <summary><c>POST /v1/completions</c>.</summary>
    Text,

    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    Chat,
}

/// <summary>The author of a chat message.</summary>
internal enum ChatRole
{
    System,
    User,
    Assistant,
}

/// <summary>One message of a chat, its text parts joined.</summary>
internal sealed record ChatMessage(ChatRole Role, string Content);

/// <summary>A checked completion request of either kind.</summary>
/// <param name="Kind">The endpoint.</param>
/// <param name="Prompt">The prompt text of <c>/v1/completions</c>; empty for a chat.</param>
/// <param name="Messages">The messages of a chat; empty for <c>/v1/completions</c>.</param>
/// <param name="Stream">Whether to answer with server-sent events.</param>
/// <param name="IncludeUsage">Whether a stream ends with a usage chunk (<c>stream_options.include_usage</c>).</param>
/// <param name="MaxTokens">The most tokens to generate, when the client set it.</param>
/// <param name="MaxTokensField">The field <paramref name="MaxTokens"/> came from, for errors.</param>
/// <param name="Temperature">The sampling temperature, in [0, 2].</param>
/// <param name="TopP">Nucleus sampling, in (0, 1].</param>
/// <param name="Seed">The sampler's seed, when set.</param>
/// <param name="Stop">Strings that end the generation where they first occur; up to 4.</param>
internal sealed record CompletionRequest(
    CompletionKind Kind,
    string Prompt,
    IReadOnlyList<ChatMessage> Messages,
    bool Stream,
    bool IncludeUsage,
    int? MaxTokens,
    string MaxTokensField,
    double Temperature,
    double TopP,
    int? Seed,
    IReadOnlyList<string> Stop)
{
    /// <summary>The name of the field that holds the prompt, for errors about its length.</summary>
    public string PromptField => Kind == CompletionKind.Chat ? "messages" : "prompt";

    /// <summary>
    /// Reads and checks a request to <paramref name="kind"/>'s endpoint. <c>model</c> must be <paramref name="modelId"/> (404 otherwise);
    /// every other bad field is a 400 naming it. Fields this server does not implement are refused unless they ask for
    /// what it does anyway; fields that change nothing in the output (<c>user</c>, <c>metadata</c>) are ignored.
    /// </summary>
    public static CompletionRequest Read(RequestFields fields, CompletionKind kind, string modelId)
    {
        var model = fields.String("model") ?? throw OpenAiErrorException.Invalid("model", "You must provide a model parameter.");
        if (!string.Equals(model, modelId, StringComparison.Ordinal))
        {
            throw ModelNotFound(model, "model");
        }

        var stream = fields.Boolean("stream") ?? false;
        var includeUsage = false;
        if (fields.Object("stream_options") is { } streamOptions)
        {
            if (!stream)
            {
                throw OpenAiErrorException.Invalid("stream_options", "stream_options is only allowed when stream is true.");
            }

            includeUsage = new RequestFields(streamOptions, "stream_options.").Boolean("include_usage") ?? false;
        }

        if (fields.Integer("n", 1, int.MaxValue) is > 1 and var n)
        {
            throw OpenAiErrorException.Invalid("n", $"n must be 1: this server generates one choice per request, got {n}.");
        }

        var temperature = fields.Number("temperature") ?? 1.0;
        if (temperature is < 0 or > 2)
        {
            throw OpenAiErrorException.Invalid("temperature", $"temperature must be in [0, 2], got {temperature.ToString(CultureInfo.InvariantCulture)}.");
        }

        var topP = fields.Number("top_p") ?? 1.0;
        if (topP is <= 0 or > 1)
        {
            throw OpenAiErrorException.Invalid("top_p", $"top_p must be in (0, 1], got {topP.ToString(CultureInfo.InvariantCulture)}.");
        }

        var seed = (int?)fields.Integer("seed", int.MinValue, int.MaxValue);
        var stop = ReadStop(fields);
        fields.Unsupported("frequency_penalty", IsZero);
        fields.Unsupported("presence_penalty", IsZero);
        fields.Unsupported("logit_bias", node => node is JsonObject { Count: 0 });
        fields.Unsupported("top_logprobs", IsZero);

        if (kind == CompletionKind.Chat)
        {
            var maxTokensField = fields.Node("max_completion_tokens") is null ? "max_tokens" : "max_completion_tokens";
            fields.Unsupported("logprobs", node => node.GetValueKind() == JsonValueKind.False);
            fields.Unsupported("tools", node => node is JsonArray { Count: 0 });
            fields.Unsupported("tool_choice", node => node.GetValueKind() == JsonValueKind.String && node.GetValue<string>() == "none");
            fields.Unsupported("response_format", node => node is JsonObject format && format["type"] is JsonValue type
                && type.GetValueKind() == JsonValueKind.String && type.GetValue<string>() == "text");
            return new CompletionRequest(kind, string.Empty, ReadMessages(fields), stream, includeUsage, ReadMaxTokens(fields, maxTokensField), maxTokensField, temperature, topP, seed, stop);
        }

        fields.Unsupported("echo", node => node.GetValueKind() == JsonValueKind.False);
        fields.Unsupported("logprobs", _ => false);
        fields.Unsupported("suffix", node => node.GetValueKind() == JsonValueKind.String && node.GetValue<string>().Length == 0);
        fields.Unsupported("best_of", node => node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue<int>(out var bestOf) && bestOf == 1);
        return new CompletionRequest(kind, ReadPrompt(fields), [], stream, includeUsage, ReadMaxTokens(fields, "max_tokens"), "max_tokens", temperature, topP, seed, stop);
    }

    /// <summary>The 404 for a model this server does not serve.</summary>
    public static OpenAiErrorException ModelNotFound(string model, string? param) =>
        new(404, $"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", param, "model_not_found");

    private static bool IsZero(JsonNode node) => node.GetValueKind() == JsonValueKind.Number && node.GetValue<double>() == 0;

    private static int? ReadMaxTokens(RequestFields fields, string name) => (int?)fields.Integer(name, 1, int.MaxValue);

    private static string[] ReadStop(RequestFields fields)
    {
        var node = fields.Node("stop");
        string[] stop = node switch
        {
            null => [],
            JsonValue value when value.GetValueKind() == JsonValueKind.String => [value.GetValue<string>()],
            JsonArray array when array.Count <= 4 => [.. array.Select((item, i) => item is JsonValue value && value.GetValueKind() == JsonValueKind.String
                ? value.GetValue<string>()
                : throw OpenAiErrorException.Invalid($"stop[{i}]", $"stop[{i}] must be a string, got {item?.ToJsonString() ?? "null"}."))],
            JsonArray array => throw OpenAiErrorException.Invalid("stop", $"stop holds at most 4 strings, got {array.Count}."),
            _ => throw OpenAiErrorException.Invalid("stop", $"stop must be a string or an array of strings, got {node.ToJsonString()}."),
        };
        return stop.Any(s => s.Length == 0) ? throw OpenAiErrorException.Invalid("stop", "stop strings must not be empty.") : stop;
    }

    private static string ReadPrompt(RequestFields fields)
    {
        var node = fields.Node("prompt") ?? throw OpenAiErrorException.Invalid("prompt", "You must provide a prompt parameter.");
        return node switch
        {
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            JsonArray { Count: 1 } array when array[0] is JsonValue value && value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            JsonArray { Count: not 1 } array when array.All(item => item?.GetValueKind() == JsonValueKind.String) =>
                throw OpenAiErrorException.Invalid("prompt", $"prompt may hold one string only (n = 1), got {array.Count}."),
            _ => throw OpenAiErrorException.Invalid("prompt", $"prompt must be a string or an array of one string, got {node.ToJsonString()}."),
        };
    }

    private static List<ChatMessage> ReadMessages(RequestFields fields)
    {
        var array = fields.Array("messages") ?? throw OpenAiErrorException.Invalid("messages", "You must provide a messages parameter.");
        if (array.Count == 0)
        {
            throw OpenAiErrorException.Invalid("messages", "messages must hold at least one message.");
        }

        return [.. array.Select((node, i) => node is JsonObject message
            ? ReadMessage(new RequestFields(message, $"messages[{i}]."))
            : throw OpenAiErrorException.Invalid($"messages[{i}]", $"messages[{i}] must be an object, got {node?.ToJsonString() ?? "null"}."))];
    }

    private static ChatMessage ReadMessage(RequestFields message)
    {
        var role = message.String("role") switch
        {
            "system" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            null => throw OpenAiErrorException.Invalid(message.Name("role"), $"{message.Name("role")} is required."),
            var other => throw OpenAiErrorException.Invalid(message.Name("role"), $"{message.Name("role")} must be system, user or assistant, got '{other}'."),
        };
        message.Unsupported("tool_calls", node => node is JsonArray { Count: 0 });
        var content = message.Node("content");
        var text = content switch
        {
            null => throw OpenAiErrorException.Invalid(message.Name("content"), $"{message.Name("content")} is required."),
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            JsonArray parts => string.Join('\n', parts.Select((part, j) => ReadTextPart(part, message.Name($"content[{j}]")))),
            _ => throw OpenAiErrorException.Invalid(message.Name("content"), $"{message.Name("content")} must be a string or an array of text parts, got {content.ToJsonString()}."),
        };
        return new ChatMessage(role, text);
    }

    private static string ReadTextPart(JsonNode? node, string name)
    {
        if (node is not JsonObject part)
        {
            throw OpenAiErrorException.Invalid(name, $"{name} must be an object, got {node?.ToJsonString() ?? "null"}.");
        }

        var fields = new RequestFields(part, name + ".");
        var type = fields.String("type");
        return type == "text"
            ? fields.String("text") ?? throw OpenAiErrorException.Invalid(fields.Name("text"), $"{fields.Name("text")} is required.")
            : throw OpenAiErrorException.Invalid(fields.Name("type"), $"only text parts are supported, {fields.Name("type")} is '{type}'.");
    }
}
