using System.CommandLine;
using System.Net;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Hosting;
using DeepSeekOperator.Serving.Placement;

namespace DeepSeekOperator.Cli.Commands;

/// <summary><c>dsop shard</c>: an expert shard, serving the routed experts its placement gives it over gRPC.</summary>
internal static class ShardCommand
{
    public static Command Create()
    {
        var serving = new ServingOptions();
        var shardIndex = new Option<int>("--shard-index") { Description = "This shard's index in the placement.", Required = true };
        var port = new Option<int>("--port") { Description = "The gRPC port (HTTP/2 cleartext; 0 picks a free one).", DefaultValueFactory = _ => ShardHostOptions.DefaultGrpcPort };
        var metricsPort = new Option<int>("--metrics-port") { Description = "The port of /metrics, /healthz and /readyz (0 picks a free one).", DefaultValueFactory = _ => ShardHostOptions.DefaultMetricsPort };
        var bind = new Option<string>("--bind") { Description = "The IP address both ports are bound on.", DefaultValueFactory = _ => "0.0.0.0" };
        var command = new Command("shard", "Serve the routed experts one shard of the placement holds, to routers over gRPC, until interrupted.") { shardIndex, port, metricsPort, bind };
        serving.AddTo(command);
        command.Validators.Add(result =>
        {
            var index = result.GetValue(shardIndex);
            if (index < 0)
            {
                result.AddError($"--shard-index must not be negative, got {index}");
            }
            else if (serving.Shards(result) is { } shards && shards >= 1 && index >= shards)
            {
                result.AddError($"--shard-index {index} is not a shard of --shards {shards} (0 to {shards - 1})");
            }

            // A validator sees the values given, not the defaults: an option left out is checked as its default would be.
            var grpcPort = result.GetResult(port) is { Implicit: false } ? result.GetValue(port) : ShardHostOptions.DefaultGrpcPort;
            var metrics = result.GetResult(metricsPort) is { Implicit: false } ? result.GetValue(metricsPort) : ShardHostOptions.DefaultMetricsPort;
            foreach (var (name, value) in new[] { (port.Name, grpcPort), (metricsPort.Name, metrics) })
            {
                if (value is < 0 or > 65535)
                {
                    result.AddError($"{name} must be between 0 and 65535, got {value}");
                }
            }

            if (grpcPort != 0 && grpcPort == metrics)
            {
                result.AddError($"--port and --metrics-port must differ, both are {grpcPort}");
            }

            if (result.GetResult(bind) is { Implicit: false } && !IPAddress.TryParse(result.GetValue(bind), out _))
            {
                result.AddError($"--bind \"{result.GetValue(bind)}\" is not an IP address");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new ShardHostOptions
            {
                ShardIndex = parseResult.GetValue(shardIndex),
                Model = serving.Model(parseResult),
                BindAddress = parseResult.GetValue(bind)!,
                GrpcPort = parseResult.GetValue(port),
                MetricsPort = parseResult.GetValue(metricsPort),
            };
            ShardHost host;
            try
            {
                host = await ShardHost.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or ModelConfigException or PlacementException or IOException or UnauthorizedAccessException)
            {
                throw new CommandException($"cannot start expert shard {options.ShardIndex}: {ex.Message}", ex);
            }

            await using (host.ConfigureAwait(false))
            {
                try
                {
                    await host.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
                    var placement = host.Revisions.Newest!.Placement;
                    await parseResult.InvocationConfiguration.Output.WriteLineAsync(
                        $"expert shard {options.ShardIndex} of {placement.Shards} (placement revision {placement.Revision}): gRPC on {host.GrpcEndpoint}, metrics on {host.MetricsEndpoint}").ConfigureAwait(false);
                    await parseResult.InvocationConfiguration.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Ctrl+C: the shard stops serving as the host is disposed.
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new CommandException($"expert shard {options.ShardIndex} cannot load its experts: {ex.Message}", ex);
                }
            }

            return 0;
        });
        return command;
    }
}
