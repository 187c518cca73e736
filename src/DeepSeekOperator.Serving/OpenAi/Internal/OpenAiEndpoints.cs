using System.Security.Cryptography;
using System.Text;
using DeepSeekOperator.Moe;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.OpenAi.Internal;

/// <summary>The handlers of the OpenAI-compatible API.</summary>
internal sealed class OpenAiEndpoints(OpenAiApiOptions options, ILogger logger)
{
    /// <summary>What a client gets by default from <c>/v1/completions</c> when it sets no <c>max_tokens</c>, as OpenAI does.</summary>
    private const int DefaultCompletionMaxTokens = 16;

    /// <summary>The status a request is counted under when its client went away before the answer was complete.</summary>
    private const int ClientClosedRequest = 499;

    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    private readonly byte[]? _apiKeyHash = options.ApiKey is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.ApiKey));
    private readonly long _modelCreated = options.Time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>
    /// Runs <paramref name="handler"/> after the API key check, answers its failures in OpenAI's error shape, and counts
    /// the answer's status.
    /// </summary>
    public async Task HandleAsync(HttpContext context, Func<HttpContext, Task<int>> handler)
    {
        int status;
        try
        {
            Authorize(context.Request);
            status = await handler(context).ConfigureAwait(false);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            status = ClientClosedRequest;
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            status = await WriteErrorAsync(context, ErrorFor(context, e)).ConfigureAwait(false);
        }

        options.Metrics.Requests.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
    }

    /// <summary><c>POST /v1/completions</c>.</summary>
    public Task<int> CompleteTextAsync(HttpContext context) => CompleteAsync(context, CompletionKind.Text);

    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    public Task<int> CompleteChatAsync(HttpContext context) => CompleteAsync(context, CompletionKind.Chat);

    /// <summary>
    /// Either completion: the prompt is encoded (a chat through <see cref="ChatTemplate"/>), generated, and answered whole
    /// or as server-sent events.
    /// </summary>
    private async Task<int> CompleteAsync(HttpContext context, CompletionKind kind)
    {
        var arrival = options.Time.GetTimestamp();
        var fields = await RequestFields.ReadAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
        var request = CompletionRequest.Read(fields, kind, options.ModelId);
        var prompt = kind == CompletionKind.Chat
            ? ChatTemplate.Encode(options.Tokenizer, request.Messages)
            : options.Tokenizer.Encode(request.Prompt, options.Tokenizer.AddBosToken);
        var sampling = new SamplingOptions
        {
            Temperature = request.Temperature,
            TopP = request.TopP,
            Seed = request.Seed,
            MaxTokens = MaxTokens(request, prompt.Count),
        };
        var header = new ResponseHeader(
            kind,
            (kind == CompletionKind.Chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N"),
            options.Time.GetUtcNow().ToUnixTimeSeconds(),
            options.ModelId);
        using var generation = TextGeneration.Start(options, new GenerationRequest(prompt, sampling), request.Stop, arrival, context.RequestAborted);
        if (!request.Stream)
        {
            var text = new StringBuilder();
            await foreach (var piece in generation.TextAsync().ConfigureAwait(false))
            {
                text.Append(piece);
            }

            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(CompletionJson.Completion(header, text.ToString(), generation.FinishReason!, prompt.Count, generation.CompletionTokens), context.RequestAborted).ConfigureAwait(false);
            return StatusCodes.Status200OK;
        }

        // The status line waits for the first piece of text (or the end): a request that fails before producing
        // anything (a queue full, a shard unreachable) is answered with its status, as a non-streamed one is.
        var pieces = generation.TextAsync().GetAsyncEnumerator();
        await using (pieces.ConfigureAwait(false))
        {
            var more = await pieces.MoveNextAsync().ConfigureAwait(false);
            await StartEventStreamAsync(context).ConfigureAwait(false);
            if (kind == CompletionKind.Chat)
            {
                await SendAsync(context, CompletionJson.Chunk(header, request.IncludeUsage, role: "assistant", text: string.Empty, finishReason: null)).ConfigureAwait(false);
            }

            try
            {
                for (; more; more = await pieces.MoveNextAsync().ConfigureAwait(false))
                {
                    await SendAsync(context, CompletionJson.Chunk(header, request.IncludeUsage, role: null, pieces.Current, finishReason: null)).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (!context.RequestAborted.IsCancellationRequested)
            {
                // The status line has gone: the failure is the stream's last event.
                await SendAsync(context, CompletionJson.Error(ErrorFor(context, e))).ConfigureAwait(false);
                return StatusCodes.Status200OK;
            }
        }

        await SendAsync(context, CompletionJson.Chunk(header, request.IncludeUsage, role: null, text: kind == CompletionKind.Chat ? null : string.Empty, generation.FinishReason)).ConfigureAwait(false);
        if (request.IncludeUsage)
        {
            await SendAsync(context, CompletionJson.UsageChunk(header, prompt.Count, generation.CompletionTokens)).ConfigureAwait(false);
        }

        await context.Response.Body.WriteAsync(Done, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        return StatusCodes.Status200OK;
    }

    /// <summary><c>GET /v1/models</c>.</summary>
    public async Task<int> ListModelsAsync(HttpContext context)
    {
        await WriteJsonAsync(context, StatusCodes.Status200OK, CompletionJson.Write(writer =>
        {
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            writer.WriteStartObject();
            WriteModel(writer);
            writer.WriteEndObject();
            writer.WriteEndArray();
        })).ConfigureAwait(false);
        return StatusCodes.Status200OK;
    }

    /// <summary><c>GET /v1/models/{id}</c>.</summary>
    public async Task<int> GetModelAsync(HttpContext context)
    {
        var id = (string?)context.Request.RouteValues["id"] ?? string.Empty;
        if (!string.Equals(id, options.ModelId, StringComparison.Ordinal))
        {
            throw CompletionRequest.ModelNotFound(id, param: null);
        }

        await WriteJsonAsync(context, StatusCodes.Status200OK, CompletionJson.Write(WriteModel)).ConfigureAwait(false);
        return StatusCodes.Status200OK;
    }

    /// <summary>Any other path under <c>/v1</c>.</summary>
    public static Task<int> UnknownRouteAsync(HttpContext context) =>
        throw new OpenAiErrorException(StatusCodes.Status404NotFound, $"Invalid URL ({context.Request.Method} {context.Request.Path})", "invalid_request_error", null, null);

    /// <summary>The answer to a failure: its own for the failures the API expects (logged when the server is at fault), a 500 otherwise (logged as an error).</summary>
    private OpenAiErrorException ErrorFor(HttpContext context, Exception exception)
    {
        if (OpenAiErrorException.From(exception) is not { } error)
        {
            OpenAiLog.RequestFailed(logger, context.Request.Method, context.Request.Path, exception);
            return OpenAiErrorException.Internal(exception);
        }

        if (error.Status >= StatusCodes.Status500InternalServerError)
        {
            OpenAiLog.GenerationFailed(logger, context.Request.Method, context.Request.Path, error.Status, error.Message);
        }

        return error;
    }

    private static async Task<int> WriteErrorAsync(HttpContext context, OpenAiErrorException error)
    {
        if (error.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        if (error.Status == StatusCodes.Status429TooManyRequests)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        await WriteJsonAsync(context, error.Status, CompletionJson.Error(error)).ConfigureAwait(false);
        return error.Status;
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task StartEventStreamAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Sends one event, <c>data: {json}\n\n</c>, and flushes it.</summary>
    private static async Task SendAsync(HttpContext context, byte[] json)
    {
        var body = context.Response.Body;
        await body.WriteAsync(DataPrefix, context.RequestAborted).ConfigureAwait(false);
        await body.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
        await body.WriteAsync(EventEnd, context.RequestAborted).ConfigureAwait(false);
        await body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private void WriteModel(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteString("id", options.ModelId);
        writer.WriteString("object", "model");
        writer.WriteNumber("created", _modelCreated);
        writer.WriteString("owned_by", "deepseek-operator");
    }

    /// <summary>The request's token budget: <c>max_tokens</c> if set (within the context), else OpenAI's default for the endpoint.</summary>
    private int MaxTokens(CompletionRequest request, int promptTokens)
    {
        var context = options.Config.MaxPositionEmbeddings;
        var room = context - promptTokens;
        if (room < 1)
        {
            throw OpenAiErrorException.Invalid(request.PromptField, $"This model's maximum context length is {context} tokens, and the prompt has {promptTokens}.");
        }

        if (request.MaxTokens > room)
        {
            throw OpenAiErrorException.Invalid(request.MaxTokensField,
                $"This model's maximum context length is {context} tokens; the prompt has {promptTokens}, which leaves room for {room}, but {request.MaxTokensField} is {request.MaxTokens}.");
        }

        return request.MaxTokens ?? (request.Kind == CompletionKind.Chat ? room : Math.Min(DefaultCompletionMaxTokens, room));
    }

    /// <summary>Checks the bearer key, when one is set, in constant time.</summary>
    private void Authorize(HttpRequest request)
    {
        if (_apiKeyHash is null)
        {
            return;
        }

        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new OpenAiErrorException(StatusCodes.Status401Unauthorized,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error", null, "invalid_api_key");
        }

        // Hashing first makes the comparison's time independent of the presented key's length too.
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        if (!CryptographicOperations.FixedTimeEquals(presented, _apiKeyHash))
        {
            throw new OpenAiErrorException(StatusCodes.Status401Unauthorized, "Incorrect API key provided.", "invalid_request_error", null, "invalid_api_key");
        }
    }
}
