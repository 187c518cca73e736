using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>What one probe attempt found.</summary>
internal sealed record ProbeOutcome(bool Success, string Message);

/// <summary>Where a container's probes and hooks go: the pod's IP and ports, and for exec, the process environment.</summary>
internal sealed record ProbeTarget(
    string PodIp, JsonObject Container, IReadOnlyList<KeyValuePair<string, string>> Environment, string WorkingDirectory, ContainerMounts Mounts);

/// <summary>
/// Runs one probe or lifecycle handler as the kubelet's prober does: <c>httpGet</c> (2xx and 3xx succeed),
/// <c>tcpSocket</c> (a connection succeeds), <c>grpc</c> (<c>grpc.health.v1.Health/Check</c> answers SERVING, over
/// cleartext HTTP/2) and <c>exec</c> (exit code 0; the command runs as a local process in the container's environment).
/// </summary>
internal sealed class Prober(ProcessGuard guard) : IDisposable
{
    private const string UserAgent = "kube-probe/1.32";
    private static readonly string[] HealthStatuses = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];

    private readonly HttpClient http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.Zero,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Runs <paramref name="handler"/> (a probe or a lifecycle handler) once within <paramref name="timeout"/>.</summary>
    public async Task<ProbeOutcome> RunAsync(JsonObject handler, ProbeTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (handler["exec"] is JsonObject exec)
        {
            return await ExecAsync(exec, target, timeout, cancellationToken);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        if (handler["httpGet"] is JsonObject httpGet)
        {
            return await HttpGetAsync(httpGet, target, timeout, deadline.Token, cancellationToken);
        }

        if (handler["tcpSocket"] is JsonObject tcp)
        {
            var host = Json.String(tcp["host"]) is { Length: > 0 } h ? h : target.PodIp;
            var port = Port(tcp["port"], target.Container);
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Parse(host), port, deadline.Token);
                return new ProbeOutcome(true, "");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new ProbeOutcome(false, $"dial tcp {host}:{port}: i/o timeout");
            }
            catch (SocketException error)
            {
                return new ProbeOutcome(false, $"dial tcp {host}:{port}: connect: {GoErrorText(error)}");
            }
        }

        if (handler["grpc"] is JsonObject grpc)
        {
            return await GrpcAsync(grpc, target, timeout, deadline.Token, cancellationToken);
        }

        if (handler["sleep"] is JsonObject sleep)
        {
            await Task.Delay(TimeSpan.FromSeconds(Json.Int64(sleep["seconds"]) ?? 0), cancellationToken);
            return new ProbeOutcome(true, "");
        }

        return new ProbeOutcome(false, "missing probe handler");
    }

    public void Dispose() => http.Dispose();

    /// <summary>A probe's port: a number, or the name of one of the container's ports.</summary>
    public static int Port(JsonNode? port, JsonObject container)
    {
        if (Json.Int64(port) is { } number)
        {
            return (int)number;
        }

        var name = Json.String(port);
        var named = (container["ports"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(p => Json.String(p["name"]) == name);
        return (int)(Json.Int64(named?["containerPort"]) ?? (int.TryParse(name, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0));
    }

    private async Task<ProbeOutcome> HttpGetAsync(JsonObject httpGet, ProbeTarget target, TimeSpan timeout, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var scheme = (Json.String(httpGet["scheme"]) ?? "HTTP").ToLowerInvariant();
        var host = Json.String(httpGet["host"]) is { Length: > 0 } h ? h : target.PodIp;
        var port = Port(httpGet["port"], target.Container);
        var path = Json.String(httpGet["path"]) ?? "/";
        if (!path.StartsWith('/'))
        {
            path = "/" + path;
        }

        var url = $"{scheme}://{host}:{port}{path}";
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.ConnectionClose = true;
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*"));
        foreach (var header in (httpGet["httpHeaders"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = Json.String(header["name"]) ?? "";
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, Json.String(header["value"]) ?? "");
        }

        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline);
            var code = (int)response.StatusCode;
            return code is >= 200 and < 400
                ? new ProbeOutcome(true, "")
                : new ProbeOutcome(false, $"HTTP probe failed with statuscode: {code}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeOutcome(false, $"Get \"{url}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
        }
        catch (HttpRequestException error)
        {
            var reason = error.InnerException is SocketException socket ? $"dial tcp {host}:{port}: connect: {GoErrorText(socket)}" : error.Message;
            return new ProbeOutcome(false, $"Get \"{url}\": {reason}");
        }
    }

    private async Task<ProbeOutcome> GrpcAsync(JsonObject grpc, ProbeTarget target, TimeSpan timeout, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var port = (int)(Json.Int64(grpc["port"]) ?? 0);
        var service = Json.String(grpc["service"]) ?? "";
        var address = $"{target.PodIp}:{port}";

        // HealthCheckRequest { string service = 1; } in one uncompressed gRPC frame.
        var serviceBytes = Encoding.UTF8.GetBytes(service);
        byte[] message = serviceBytes.Length == 0 ? [] : [0x0a, .. Varint(serviceBytes.Length), .. serviceBytes];
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame.AsSpan(5));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{address}/grpc.health.v1.Health/Check")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        var seconds = timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, deadline);
            var body = await response.Content.ReadAsByteArrayAsync(deadline);
            var grpcStatus = response.TrailingHeaders.TryGetValues("grpc-status", out var values) ? values.FirstOrDefault()
                : response.Headers.TryGetValues("grpc-status", out var headerValues) ? headerValues.FirstOrDefault() : null;
            if (!response.IsSuccessStatusCode || grpcStatus is not (null or "0"))
            {
                return new ProbeOutcome(false, $"health rpc probe failed: rpc error: code = {grpcStatus ?? ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture)}");
            }

            var status = HealthStatus(body);
            return status == 1
                ? new ProbeOutcome(true, "")
                : new ProbeOutcome(false, $"service unhealthy (responded with \"{(status >= 0 && status < HealthStatuses.Length ? HealthStatuses[status] : status.ToString(CultureInfo.InvariantCulture))}\")");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProbeOutcome(false, $"timeout: health rpc did not complete within {seconds}s");
        }
        catch (HttpRequestException)
        {
            return new ProbeOutcome(false, $"timeout: failed to connect service \"{address}\" within {seconds}s: context deadline exceeded");
        }
    }

    private async Task<ProbeOutcome> ExecAsync(JsonObject exec, ProbeTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var command = (exec["command"] as JsonArray ?? []).Select(c => target.Mounts.Rewrite(Json.String(c) ?? "")).ToList();
        if (command.Count == 0)
        {
            return new ProbeOutcome(false, "exec: no command");
        }

        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = target.WorkingDirectory,
        };
        start.ArgumentList.Add("--");
        command.ForEach(start.ArgumentList.Add);
        start.Environment.Clear();
        foreach (var (name, value) in target.Environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        guard.Add(process.Id);
        try
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Signals.SendToGroup(process.Id, Signals.Kill);
                cancellationToken.ThrowIfCancellationRequested();
                return new ProbeOutcome(false, $"command \"{string.Join(' ', command)}\" timed out");
            }

            var output = await stdout + await stderr;
            return new ProbeOutcome(process.ExitCode == 0, output);
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            return new ProbeOutcome(false, error.Message);
        }
        finally
        {
            Signals.SendToGroup(process.Id, Signals.Kill);
            guard.Remove(process.Id);
        }
    }

    private static int HealthStatus(byte[] body)
    {
        // HealthCheckResponse { ServingStatus status = 1; } after the 5-byte frame header; absent means UNKNOWN (0).
        var span = body.AsSpan(Math.Min(5, body.Length));
        for (var i = 0; i + 1 < span.Length; i++)
        {
            if (span[i] == 0x08)
            {
                return span[i + 1];
            }
        }

        return 0;
    }

    private static byte[] Varint(int value)
    {
        var bytes = new List<byte>();
        var remaining = (uint)value;
        while (remaining >= 0x80)
        {
            bytes.Add((byte)(remaining | 0x80));
            remaining >>= 7;
        }

        bytes.Add((byte)remaining);
        return [.. bytes];
    }

    private static string GoErrorText(SocketException error) => error.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "i/o timeout",
        SocketError.NetworkUnreachable => "network is unreachable",
        SocketError.HostUnreachable => "no route to host",
        _ => error.Message,
    };
}
