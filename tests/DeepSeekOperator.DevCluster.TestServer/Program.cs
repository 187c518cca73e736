using System.Buffers.Binary;
using System.Net;
using DeepSeekOperator.DevCluster.TestServer;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// A tiny HTTP server that the pod runner's tests run as a pod's container process.
// It listens on $POD_IP (or --host, else 127.0.0.1) at $PORT (or --port), and with --grpc-port also serves the
// standard gRPC health service over cleartext HTTP/2 there. Every line it prints is the container's log.
//   GET /healthz, /readyz        200 "ok", or 500 once made to fail
//   GET /set?healthz=fail|ok&readyz=fail|ok&grpc=fail|ok
//   GET /files?path=P            the contents of file P (404 when missing)
//   GET /env?name=N              the value of environment variable N (404 when unset)
//   GET /exit?code=N             exits with code N
// SIGTERM stops it cleanly (exit code 0).
var settings = Settings.Parse(args);
var state = new HealthState();
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Listen(IPAddress.Parse(settings.Host), settings.Port, listen => listen.Protocols = HttpProtocols.Http1);
    if (settings.GrpcPort is { } grpcPort)
    {
        kestrel.Listen(IPAddress.Parse(settings.Host), grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
    }
});
var app = builder.Build();
app.Use(async (context, next) =>
{
    Console.WriteLine($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
    await next(context);
});
app.MapGet("/healthz", () => state.Healthy ? Results.Text("ok") : Results.Text("failing", statusCode: 500));
app.MapGet("/readyz", () => state.Ready ? Results.Text("ok") : Results.Text("not ready", statusCode: 500));
app.MapGet("/set", (string? healthz, string? readyz, string? grpc) =>
{
    state.Healthy = healthz is null ? state.Healthy : healthz == "ok";
    state.Ready = readyz is null ? state.Ready : readyz == "ok";
    state.Serving = grpc is null ? state.Serving : grpc == "ok";
    return Results.Text("ok");
});
app.MapGet("/files", (string path) => File.Exists(path) ? Results.Text(File.ReadAllText(path)) : Results.NotFound());
app.MapGet("/env", (string name) => Environment.GetEnvironmentVariable(name) is { } value ? Results.Text(value) : Results.NotFound());
app.MapGet("/exit", (int code) =>
{
    Console.WriteLine($"exiting with code {code}");
    Console.Out.Flush();
    Environment.Exit(code);
});
app.MapPost("/grpc.health.v1.Health/Check", async context =>
{
    // The reply to grpc.health.v1.Health/Check: one uncompressed gRPC frame holding HealthCheckResponse
    // { status = 1 (SERVING) or 2 (NOT_SERVING) }, then the grpc-status trailer.
    await context.Request.Body.CopyToAsync(Stream.Null);
    context.Response.ContentType = "application/grpc";
    context.Response.AppendTrailer("grpc-status", "0");
    var frame = new byte[7];
    BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), 2);
    frame[5] = 0x08;
    frame[6] = state.Serving ? (byte)1 : (byte)2;
    await context.Response.Body.WriteAsync(frame);
});
app.Lifetime.ApplicationStopping.Register(() => Console.WriteLine("stopping"));
await app.StartAsync();
Console.WriteLine($"listening on {settings.Host}:{settings.Port}");
await app.WaitForShutdownAsync();
