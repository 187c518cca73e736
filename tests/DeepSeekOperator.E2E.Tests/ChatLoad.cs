using System.Collections.Concurrent;
using System.Globalization;

namespace DeepSeekOperator.E2E.Tests;

/// <summary>
/// A load generator: <c>clients</c> concurrent users, each streaming one chat completion after another through the
/// gateway until stopped. Every request opens a new connection, so that the gateway Service spreads them over every
/// ready router as they come and go. A request that does not end with a finish reason and <c>[DONE]</c> is a failure.
/// </summary>
internal sealed class ChatLoad : IAsyncDisposable
{
    private readonly HttpClient http;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task[] clients;
    private readonly ConcurrentQueue<string> failures = new();
    private int succeeded;

    private ChatLoad(Uri api, string model, int clients, int maxTokens)
    {
        // No pooled connection is reused: each request is a new connection, balanced anew by the service proxy.
        http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = api, Timeout = TimeSpan.FromSeconds(60) };
        this.clients = [.. Enumerable.Range(0, clients).Select(client => Task.Run(() => ClientAsync(client, model, maxTokens)))];
    }

    /// <summary>Requests that ended well.</summary>
    public int Succeeded => Volatile.Read(ref succeeded);

    /// <summary>What went wrong with each failed request.</summary>
    public IReadOnlyCollection<string> Failures => failures;

    /// <summary>Starts <paramref name="clients"/> users streaming completions of up to <paramref name="maxTokens"/> tokens from <paramref name="model"/> at <paramref name="api"/>.</summary>
    public static ChatLoad Start(Uri api, string model, int clients, int maxTokens) => new(api, model, clients, maxTokens);

    /// <summary>Lets every user finish the request in flight, then stop.</summary>
    public async Task StopAsync()
    {
        await stopping.CancelAsync();
        await Task.WhenAll(clients);
    }

    /// <summary>Stops the users (see <see cref="StopAsync"/>) and closes the client.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        http.Dispose();
        stopping.Dispose();
    }

    private async Task ClientAsync(int client, string model, int maxTokens)
    {
        for (var request = 0; !stopping.IsCancellationRequested; request++)
        {
            var prompt = string.Create(CultureInfo.InvariantCulture, $"User {client}, question {request}: which experts answer this, and why?");
            var body = Sse.Chat(prompt, maxTokens);
            body["model"] = model;
            body["temperature"] = 0.8;
            try
            {
                // Not cancelled on stop: a request once sent runs to its end, so that stopping never fails one.
                var result = await Sse.StreamAsync(http, "chat/completions", body);
                if (result.Succeeded)
                {
                    Interlocked.Increment(ref succeeded);
                }
                else
                {
                    failures.Enqueue($"user {client} request {request}: HTTP {(int)result.Status}, finish {result.FinishReason}, done {result.Done}, error {result.Error}");
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException or TaskCanceledException or System.Text.Json.JsonException)
            {
                failures.Enqueue($"user {client} request {request}: {exception.GetType().Name}: {exception.Message}");
            }
        }
    }
}
