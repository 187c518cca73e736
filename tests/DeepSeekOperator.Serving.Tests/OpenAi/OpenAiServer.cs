using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Moe.Tokenization;
using DeepSeekOperator.Serving.Observability;
using DeepSeekOperator.Serving.OpenAi;
using DeepSeekOperator.Serving.Router;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Serving.Tests.OpenAi;

/// <summary>
/// The OpenAI-compatible API of the tiny synthetic model (byte tokenizer) over a generator, served by an
/// in-process Kestrel on a free loopback port.
/// </summary>
internal sealed class OpenAiServer(WebApplication app, RouterMetrics metrics, ConcurrentQueue<string> errors) : IAsyncDisposable
{
    public const string ModelId = "deepseek-tiny";

    public static ModelConfig Config { get; } = SyntheticModel.Config(SyntheticPreset.Tiny);

    public static ITextTokenizer Tokenizer { get; } = new ByteTokenizer(Config.VocabSize);

    public Uri BaseAddress { get; } = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());

    public RouterMetrics Metrics => metrics;

    /// <summary>Every message logged at error level.</summary>
    public ConcurrentQueue<string> Errors => errors;

    public static async Task<OpenAiServer> StartAsync(ITokenGenerator generator, string? apiKey = null, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var errors = new ConcurrentQueue<string>();
        builder.Logging.ClearProviders().AddProvider(new ErrorRecorder(errors));
        var app = builder.Build();
        var metrics = new RouterMetrics(new CollectorRegistry());
        app.MapOpenAiApi(new OpenAiApiOptions
        {
            ModelId = ModelId,
            Generator = generator,
            Tokenizer = Tokenizer,
            Config = Config,
            Metrics = metrics,
            ApiKey = apiKey,
            Time = time ?? TimeProvider.System,
        });
        await app.StartAsync();
        return new OpenAiServer(app, metrics, errors);
    }

    public HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>How many answers were counted with <paramref name="status"/>.</summary>
    public double Answered(int status) => metrics.Requests.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Value;

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    private sealed class ErrorRecorder(ConcurrentQueue<string> errors) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                errors.Enqueue($"{formatter(state, exception)} {exception}");
            }
        }

        public void Dispose()
        {
        }
    }
}
