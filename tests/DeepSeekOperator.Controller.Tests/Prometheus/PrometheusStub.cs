using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Controller.Tests.Prometheus;

/// <summary>
/// An in-process Kestrel on a free loopback port standing in for Prometheus's HTTP API: it records every request and
/// answers with what the test set.
/// </summary>
internal sealed class PrometheusStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private Func<HttpContext, Task> _answer = context => Task.CompletedTask;

    private PrometheusStub(WebApplication app)
    {
        _app = app;
        app.Run(async context =>
        {
            var form = context.Request.HasFormContentType ? (await context.Request.ReadFormAsync(context.RequestAborted)).ToDictionary(f => f.Key, f => f.Value.ToString()) : [];
            Requests.Enqueue(new Recorded(
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
                form,
                context.Request.Headers.Authorization.ToString()));
            await _answer(context);
        });
    }

    /// <summary>The stub's root.</summary>
    public Uri BaseAddress => new(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/");

    /// <summary>Every request so far, in order.</summary>
    public ConcurrentQueue<Recorded> Requests { get; } = new();

    public static async Task<PrometheusStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new PrometheusStub(app);
        await app.StartAsync();
        return stub;
    }

    /// <summary>Answers every request with <paramref name="status"/> and the JSON <paramref name="body"/>.</summary>
    public void Answer(HttpStatusCode status, string body, string contentType = "application/json") => _answer = async context =>
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body, context.RequestAborted);
    };

    /// <summary>Answers every request with a successful answer holding <paramref name="data"/> (the JSON of <c>data</c>).</summary>
    public void AnswerData(string data) => Answer(HttpStatusCode.OK, $$"""{"status":"success","data":{{data}}}""");

    /// <summary>Answers each query with the JSON of <c>data</c> that <paramref name="data"/> gives for its expression.</summary>
    public void AnswerQueries(Func<string, string> data) => _answer = async context =>
    {
        var query = context.Request.HasFormContentType ? (await context.Request.ReadFormAsync(context.RequestAborted))["query"].ToString() : context.Request.Query["query"].ToString();
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($$"""{"status":"success","data":{{data(query)}}}""", context.RequestAborted);
    };

    /// <summary>Never answers: each request completes <paramref name="received"/> and waits until the client gives up.</summary>
    public void Hang(TaskCompletionSource received) => _answer = async context =>
    {
        received.TrySetResult();
        await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
    };

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    /// <summary>A request as the stub saw it.</summary>
    public sealed record Recorded(string Method, string PathAndQuery, Dictionary<string, string> Query, Dictionary<string, string> Form, string Authorization);
}
