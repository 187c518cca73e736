using DeepSeekOperator.Serving.OpenAi.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DeepSeekOperator.Serving.OpenAi;

/// <summary>
/// The router's OpenAI-compatible HTTP API: <c>POST /v1/completions</c>, <c>POST /v1/chat/completions</c> (whole or as
/// server-sent events), <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>, with errors in OpenAI's JSON shape.
/// </summary>
public static class OpenAiApi
{
    /// <summary>
    /// Maps the API under <c>/v1</c>. Every request under <c>/v1</c> presents <see cref="OpenAiApiOptions.ApiKey"/> as a bearer
    /// token when one is set; a path under <c>/v1</c> that no endpoint of the application serves is answered 404 in OpenAI's shape.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="options">The model, the generator and the metrics.</param>
    /// <returns><paramref name="endpoints"/>.</returns>
    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder endpoints, OpenAiApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ModelId, nameof(options.ModelId));
        if (options.ApiKey is { Length: 0 })
        {
            throw new ArgumentException("ApiKey must not be empty; leave it null for no key", nameof(options));
        }

        var logger = endpoints.ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger(typeof(OpenAiApi).FullName!) ?? NullLogger.Instance;
        var api = new OpenAiEndpoints(options, logger);
        var v1 = endpoints.MapGroup("/v1");
        v1.MapPost("/completions", context => api.HandleAsync(context, api.CompleteTextAsync));
        v1.MapPost("/chat/completions", context => api.HandleAsync(context, api.CompleteChatAsync));
        v1.MapGet("/models", context => api.HandleAsync(context, api.ListModelsAsync));
        v1.MapGet("/models/{**id}", context => api.HandleAsync(context, api.GetModelAsync));
        v1.Map("/{**path}", context => api.HandleAsync(context, OpenAiEndpoints.UnknownRouteAsync));
        return endpoints;
    }

    /// <summary>
    /// The API key: the content of <paramref name="file"/> (trimmed) when a file is named, else the value of the environment
    /// variable <paramref name="environmentVariable"/>; <see langword="null"/> when neither gives one (no key is required).
    /// </summary>
    /// <param name="file">A file holding the key (a mounted Secret), or <see langword="null"/>.</param>
    /// <param name="environmentVariable">The name of an environment variable that may hold the key.</param>
    /// <returns>The key, or <see langword="null"/>.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist; the message names it.</exception>
    /// <exception cref="InvalidDataException">The file holds only white space; the message names it.</exception>
    public static string? ReadApiKey(string? file, string environmentVariable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(environmentVariable);
        if (file is not null)
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"the API key file {file} does not exist", file);
            }

            var key = File.ReadAllText(file).Trim();
            return key.Length > 0 ? key : throw new InvalidDataException($"the API key file {file} is empty");
        }

        var value = Environment.GetEnvironmentVariable(environmentVariable)?.Trim();
        return string.IsNullOrEmpty(value) ? null : value;
    }
}
