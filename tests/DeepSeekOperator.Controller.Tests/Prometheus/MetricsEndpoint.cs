using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace DeepSeekOperator.Controller.Tests.Prometheus;

/// <summary>A prometheus-net registry served at <c>/metrics</c> by an in-process Kestrel on a free loopback port.</summary>
internal sealed class MetricsEndpoint(WebApplication app) : IAsyncDisposable
{
    /// <summary>host:port, as a scrape target and as the <c>instance</c> label of what is scraped from it.</summary>
    public string Address { get; } = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Authority;

    public static async Task<MetricsEndpoint> StartAsync(CollectorRegistry registry)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/metrics", async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync();
        return new MetricsEndpoint(app);
    }

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
