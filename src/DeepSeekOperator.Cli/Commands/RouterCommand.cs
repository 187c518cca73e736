using System.CommandLine;
using System.Globalization;
using System.Net;
using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Hosting;
using DeepSeekOperator.Serving.OpenAi;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Router;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>
/// <c>dsop router</c>: the OpenAI-compatible front of a model, holding every weight but the routed experts and
/// calling the expert shards over gRPC for every MoE layer.
/// </summary>
internal static class RouterCommand
{
    /// <summary>The environment variable the API key is read from when no file is given.</summary>
    public const string ApiKeyVariable = "DSOP_API_KEY";

    public static Command Create()
    {
        var serving = new ServingOptions();
        var shard = new Option<string[]>("--shard")
        {
            Description = "The replicas of one shard, k=host:port[,host:port...]; give it once per shard (static discovery).",
            AllowMultipleArgumentsPerToken = false,
        };
        var discovery = new Option<string>("--discovery")
        {
            Description = "How shard replicas are found: static (--shard), dns (headless Services <prefix>-shard-<k>) or endpointslices (watched through the Kubernetes API).",
            DefaultValueFactory = _ => "static",
        };
        discovery.AcceptOnlyFromAmong("static", "dns", "endpointslices");
        var servicePrefix = new Option<string?>("--service-prefix") { Description = "dns and endpointslices: the shard Services are <prefix>-shard-<k> (the DeepSeekModel's name)." };
        var serviceNamespace = new Option<string?>("--namespace") { Description = "dns and endpointslices: the namespace of the shard Services (default: the pod's, from POD_NAMESPACE)." };
        var shardPortName = new Option<string?>("--shard-port-name") { Description = "endpointslices: the name of the shard Services' gRPC port (default: a slice's only port)." };
        var shardPort = new Option<int>("--shard-port") { Description = "dns: the shards' gRPC port.", DefaultValueFactory = _ => ShardHostOptions.DefaultGrpcPort };
        var port = new Option<int>("--port") { Description = "The port of the OpenAI API, /metrics, /healthz and /readyz (0 picks a free one).", DefaultValueFactory = _ => RouterHostOptions.DefaultPort };
        var bind = new Option<string>("--bind") { Description = "The IP address the port is bound on.", DefaultValueFactory = _ => "0.0.0.0" };
        var wireDtype = new Option<string>("--wire-dtype") { Description = "Hidden states on the wire: f32 (exact) or bf16 (half the bytes).", DefaultValueFactory = _ => "f32" };
        wireDtype.AcceptOnlyFromAmong("f32", "bf16");
        var stepDeadline = new Option<double>("--step-deadline") { Description = "Seconds one MoE layer step may wait for the shards.", DefaultValueFactory = _ => 30 };
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { Description = "The most tokens in one scheduler step.", DefaultValueFactory = _ => new SchedulerOptions().MaxBatchTokens };
        var maxConcurrent = new Option<int>("--max-concurrent-requests") { Description = "The most requests generating at once.", DefaultValueFactory = _ => new SchedulerOptions().MaxConcurrentRequests };
        var maxQueued = new Option<int>("--max-queued-requests") { Description = "The most requests waiting; more are answered 429.", DefaultValueFactory = _ => new SchedulerOptions().MaxQueuedRequests };
        var apiKeyFile = new Option<FileInfo?>("--api-key-file") { Description = $"A file holding the bearer key every request must carry (default: ${ApiKeyVariable} when set; none otherwise)." };
        var command = new Command("router", "Serve the OpenAI-compatible API of a model whose routed experts live in expert shards, until interrupted.")
        {
            shard, discovery, servicePrefix, serviceNamespace, shardPortName, shardPort, port, bind, wireDtype, stepDeadline, maxBatchTokens, maxConcurrent, maxQueued, apiKeyFile,
        };
        serving.AddTo(command);
        command.Validators.Add(result =>
        {
            // A validator sees only the values given: an option left out is checked as its default.
            var kind = result.GetValue(discovery) ?? "static";
            var shards = result.GetValue(shard) ?? [];
            if (kind == "static" && shards.Length == 0)
            {
                result.AddError("give the replicas of every shard with --shard k=host:port (or choose --discovery dns or endpointslices)");
            }

            if (kind != "static" && shards.Length > 0)
            {
                result.AddError($"--shard applies only to --discovery static, not {kind}");
            }

            if (kind != "static" && string.IsNullOrWhiteSpace(result.GetValue(servicePrefix)))
            {
                result.AddError($"--discovery {kind} needs --service-prefix (the DeepSeekModel's name)");
            }

            if (result.GetResult(shardPortName) is not null)
            {
                if (kind != "endpointslices")
                {
                    result.AddError($"--shard-port-name applies only to --discovery endpointslices, not {kind}");
                }
                else if (string.IsNullOrWhiteSpace(result.GetValue(shardPortName)))
                {
                    result.AddError("--shard-port-name must not be empty");
                }
            }

            foreach (var (name, value, least) in new[] { (maxBatchTokens.Name, result.GetValue(maxBatchTokens), 1), (maxConcurrent.Name, result.GetValue(maxConcurrent), 1), (maxQueued.Name, result.GetValue(maxQueued), 1) })
            {
                if (result.GetResult(result.Command.Options.Single(o => o.Name == name)) is { Implicit: false } && value < least)
                {
                    result.AddError($"{name} must be at least {least}, got {value}");
                }
            }

            if (result.GetResult(stepDeadline) is { Implicit: false } && !(result.GetValue(stepDeadline) > 0))
            {
                result.AddError($"--step-deadline must be a positive number of seconds, got {result.GetValue(stepDeadline).ToString(CultureInfo.InvariantCulture)}");
            }

            if (result.GetResult(port) is { Implicit: false } && result.GetValue(port) is < 0 or > 65535)
            {
                result.AddError($"--port must be between 0 and 65535, got {result.GetValue(port)}");
            }

            if (result.GetResult(bind) is { Implicit: false } && !IPAddress.TryParse(result.GetValue(bind), out _))
            {
                result.AddError($"--bind \"{result.GetValue(bind)}\" is not an IP address");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var kind = parseResult.GetValue(discovery) switch
            {
                "dns" => ShardDiscoveryKind.Dns,
                "endpointslices" => ShardDiscoveryKind.EndpointSlices,
                _ => ShardDiscoveryKind.Static,
            };
            string? apiKey;
            try
            {
                apiKey = OpenAiApi.ReadApiKey(parseResult.GetValue(apiKeyFile)?.FullName, ApiKeyVariable);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                throw new CommandException($"--api-key-file: {ex.Message}", ex);
            }

            var options = new RouterHostOptions
            {
                Model = serving.Model(parseResult),
                Discovery = new ShardDiscoveryOptions
                {
                    Kind = kind,
                    StaticShards = parseResult.GetValue(shard) ?? [],
                    ServicePrefix = parseResult.GetValue(servicePrefix),
                    Namespace = parseResult.GetValue(serviceNamespace) ?? Environment.GetEnvironmentVariable("POD_NAMESPACE"),
                    Port = parseResult.GetValue(shardPort),
                    PortName = parseResult.GetValue(shardPortName),
                },
                BindAddress = parseResult.GetValue(bind)!,
                Port = parseResult.GetValue(port),
                WireDtype = parseResult.GetValue(wireDtype) == "bf16" ? TensorDtype.Bfloat16 : TensorDtype.Float32,
                StepDeadline = TimeSpan.FromSeconds(parseResult.GetValue(stepDeadline)),
                Scheduler = new SchedulerOptions
                {
                    MaxBatchTokens = parseResult.GetValue(maxBatchTokens),
                    MaxConcurrentRequests = parseResult.GetValue(maxConcurrent),
                    MaxQueuedRequests = parseResult.GetValue(maxQueued),
                },
                ApiKey = apiKey,
            };
            RouterHost host;
            try
            {
                host = await RouterHost.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or ModelConfigException or PlacementException or IOException or UnauthorizedAccessException or k8s.Exceptions.KubeConfigException)
            {
                throw new CommandException($"cannot start the router: {ex.Message}", ex);
            }

            await using (host.ConfigureAwait(false))
            {
                var output = parseResult.InvocationConfiguration.Output;
                await output.WriteLineAsync(
                    $"router of {options.Model.EffectiveModelId} (placement revision {host.Placement.Revision}, {host.Placement.Shards} expert shards): OpenAI API on http://{host.Endpoint}/v1{(apiKey is null ? "" : " (bearer key required)")}").ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Ctrl+C: requests in flight end as the host is disposed.
                }
            }

            return 0;
        });
        return command;
    }
}
