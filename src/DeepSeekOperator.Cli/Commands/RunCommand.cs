using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using DeepSeekOperator.Api;
using DeepSeekOperator.Api.V1Alpha1;
using DeepSeekOperator.Controller.Autoscaling;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Controller.Reconciling;
using DeepSeekOperator.DevCluster;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>
/// <c>dsop run</c> (what <c>make run</c> types): a development cluster, the DeepSeekModel CRD, a sample model and the
/// operator, all on this machine, with the model's routers and shards as real processes. It prints progress until the
/// model is Ready, then its endpoint and a <c>curl</c> to paste, and runs until interrupted, when it stops every process
/// it started.
/// </summary>
internal static class RunCommand
{
    private const string DefaultSample = "config/samples/tiny-synthetic.yaml";
    private const string DefaultNamespace = "default";
    private const int DefaultReadyTimeoutSeconds = 300;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static Command Create()
    {
        var file = new Option<FileInfo>("--file", "-f") { Description = $"The DeepSeekModel manifest to run (default {DefaultSample}).", DefaultValueFactory = _ => new FileInfo(DefaultSample) };
        var ns = new Option<string>("--namespace", "-n") { Description = "The namespace to create the model in.", DefaultValueFactory = _ => DefaultNamespace };
        var runtimeDir = new Option<DirectoryInfo?>("--runtime-dir") { Description = "Where the kubeconfig and the pods' volumes and logs live (default ~/.dsop/run); emptied at start." };
        var readyTimeout = new Option<int>("--ready-timeout") { Description = "Seconds to wait for the model to become Ready before giving up.", DefaultValueFactory = _ => DefaultReadyTimeoutSeconds };
        var command = new Command("run", "Run the operator and a sample model on a local development cluster, its routers and shards as local processes, until interrupted.")
        {
            file, ns, runtimeDir, readyTimeout,
        };
        command.Validators.Add(result =>
        {
            // A validator sees only the options given, not the defaults of those left out.
            if (result.GetResult(readyTimeout) is { Implicit: false } && result.GetValue(readyTimeout) is var seconds and < 1)
            {
                result.AddError($"--ready-timeout must be at least 1 second, got {seconds}");
            }

            if (result.GetValue(ns) is { } name && !OperatorCommand.IsDnsLabel(name))
            {
                result.AddError($"--namespace \"{name}\" is not a DNS label (lowercase letters, digits and '-', at most 63)");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var manifest = parseResult.GetValue(file) ?? new FileInfo(DefaultSample);
            var model = ReadManifest(manifest);
            var namespaceName = parseResult.GetValue(ns) ?? DefaultNamespace;
            model.Metadata.NamespaceProperty = namespaceName;
            var runtime = parseResult.GetValue(runtimeDir)?.FullName
                ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dsop", "run");
            var run = new Run(parseResult.InvocationConfiguration.Output, runtime, TimeSpan.FromSeconds(parseResult.GetValue(readyTimeout)));
            return await run.ExecuteAsync(model, manifest, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static DeepSeekModel ReadManifest(FileInfo manifest)
    {
        string text;
        try
        {
            text = File.ReadAllText(manifest.FullName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CommandException($"cannot read {manifest.FullName}: {ex.Message} (run from the repository root, or pass --file)", ex);
        }

        ManifestResult result;
        try
        {
            result = DeepSeekModelManifest.Read(text);
        }
        catch (FormatException ex)
        {
            throw new CommandException($"{manifest.FullName}: {ex.Message}", ex);
        }

        return result is { IsValid: true, Model: { } model }
            ? model
            : throw new CommandException($"{manifest.FullName} is not a valid DeepSeekModel: {string.Join("; ", result.Errors)}");
    }

    private sealed class Run(TextWriter output, string runtime, TimeSpan readyTimeout)
    {
        private readonly Stopwatch clock = new();
        private readonly HashSet<string> warningsShown = [];

        public async Task<int> ExecuteAsync(DeepSeekModel model, FileInfo manifest, CancellationToken cancellationToken)
        {
            clock.Start();
            PrepareRuntimeDirectory();
            using var loggerFactory = LoggerFactory.Create(Quiet);
            await output.WriteLineAsync("Starting a development cluster (an API server, the workload controllers, a scheduler, and a pod runner that runs pods as local processes)...").ConfigureAwait(false);
            DevCluster.DevCluster cluster;
            try
            {
                cluster = await DevCluster.DevCluster.StartAsync(ClusterOptions(), loggerFactory, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new CommandException($"cannot start the dev cluster: {ex.Message}", ex);
            }

            await using (cluster.ConfigureAwait(false))
            {
                var kubeconfig = Path.Combine(runtime, "kubeconfig");
                cluster.Api.WriteKubeconfig(kubeconfig);
                using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
                await InstallCrdAsync(client, cancellationToken).ConfigureAwait(false);
                await CreateModelAsync(client, model, manifest, cancellationToken).ConfigureAwait(false);

                var host = await StartOperatorAsync(kubeconfig, model.Metadata.NamespaceProperty, cancellationToken).ConfigureAwait(false);
                await using (host.ConfigureAwait(false))
                {
                    await WriteAsync($"Operator {host.Identity} started; its metrics on http://{host.Endpoint}/metrics. Waiting for {model.Metadata.Name} to become Ready:").ConfigureAwait(false);
                    var ready = await WaitUntilReadyAsync(client, model, host, cancellationToken).ConfigureAwait(false);
                    if (!ready)
                    {
                        await ReportPodsAsync(client, model.Metadata.NamespaceProperty, cancellationToken).ConfigureAwait(false);
                        await WriteAsync($"{model.Metadata.Name} did not become Ready within {readyTimeout.TotalSeconds:0} s; pods' logs are under {runtime}. Stopping.").ConfigureAwait(false);
                        return 1;
                    }

                    await PrintEndpointAsync(client, model, kubeconfig, cancellationToken).ConfigureAwait(false);
                    try
                    {
                        await host.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        // Ctrl-C: the normal way out.
                    }
                    catch (Exception ex)
                    {
                        throw new CommandException($"the operator stopped: {ex.Message}", ex);
                    }

                    var processes = await CountProcessesAsync(client).ConfigureAwait(false);
                    await WriteAsync($"Stopping the operator, {processes} pod processes and the development cluster...").ConfigureAwait(false);
                }
            }

            await WriteAsync("Stopped.").ConfigureAwait(false);
            return 0;
        }

        // Pods of the previous run (volumes, logs) are of no use to this one: it starts from an empty cluster.
        private void PrepareRuntimeDirectory()
        {
            var pods = Path.Combine(runtime, "pods");
            try
            {
                if (Directory.Exists(pods))
                {
                    Directory.Delete(pods, recursive: true);
                }

                Directory.CreateDirectory(pods);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CommandException($"cannot prepare {pods}: {ex.Message} (is another dsop run using it? pass --runtime-dir)", ex);
            }
        }

        private DevClusterOptions ClusterOptions()
        {
            var (self, prefix) = DevClusterUp.SelfCommand();
            return new DevClusterOptions
            {
                Api = new ApiServerOptions { HttpsPort = 0, HttpPort = null },
                RuntimeDirectory = Path.Combine(runtime, "pods"),
                ImageCommands = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal) { [DevClusterUp.ProjectImage] = [self, .. prefix] },
            };
        }

        private async Task InstallCrdAsync(Kubernetes client, CancellationToken cancellationToken)
        {
            var crd = CustomResourceDefinitions.DeepSeekModel();
            await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, cancellationToken: cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var read = await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (read.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true)
                {
                    break;
                }

                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }

            await WriteAsync($"Installed the CustomResourceDefinition {crd.Metadata.Name}.").ConfigureAwait(false);
        }

        private async Task CreateModelAsync(Kubernetes client, DeepSeekModel model, FileInfo manifest, CancellationToken cancellationToken)
        {
            var ns = model.Metadata.NamespaceProperty;
            if (ns != DefaultNamespace)
            {
                await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } }, cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            try
            {
                await client.CustomObjects.CreateNamespacedCustomObjectAsync(model, DeepSeekModel.Group, DeepSeekModel.Version, ns, DeepSeekModel.Plural, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HttpOperationException ex)
            {
                throw new CommandException($"the API server refused {manifest.Name}: {ex.Response.Content}", ex);
            }

            await WriteAsync($"Created deepseekmodel {ns}/{model.Metadata.Name} from {manifest.Name}.").ConfigureAwait(false);
        }

        private static async Task<OperatorHost> StartOperatorAsync(string kubeconfig, string ns, CancellationToken cancellationToken)
        {
            var settings = new OperatorSettings { RuntimeImage = $"{DevClusterUp.ProjectImage}:{VersionCommand.Version}" };
            var controller = DeepSeekModelController.Factory(new DeepSeekModelControllerOptions { Settings = settings, Namespace = ns });
            var rebalancer = RebalancerController.Factory(new RebalancerOptions { Settings = settings, Namespace = ns });
            var options = new OperatorHostOptions { Kubeconfig = kubeconfig, LeaseNamespace = ns, BindAddress = "127.0.0.1", Port = 0 };
            try
            {
                var autoscaler = ModelAutoscaler.Factory(new ModelAutoscalerOptions { Namespace = ns });
                return await OperatorHost.StartAsync(options, [controller, autoscaler, rebalancer], Quiet, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new CommandException($"cannot start the operator: {ex.Message}", ex);
            }
        }

        /// <summary>Prints a line whenever the model's progress changes, and new Warning events; true once it is Ready.</summary>
        private async Task<bool> WaitUntilReadyAsync(Kubernetes client, DeepSeekModel model, OperatorHost host, CancellationToken cancellationToken)
        {
            var ns = model.Metadata.NamespaceProperty;
            var deadline = clock.Elapsed + readyTimeout;
            string? shown = null;
            using var timer = new PeriodicTimer(PollInterval);
            while (clock.Elapsed < deadline)
            {
                if (host.Completion.IsCompleted)
                {
                    await host.Completion.ConfigureAwait(false);
                }

                var live = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(
                    await client.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, ns, DeepSeekModel.Plural, model.Metadata.Name, cancellationToken).ConfigureAwait(false)));
                var line = Progress(live);
                if (line != shown)
                {
                    await WriteAsync(line).ConfigureAwait(false);
                    shown = line;
                }

                await ShowWarningsAsync(client, ns, cancellationToken).ConfigureAwait(false);
                if (live.Status?.Conditions?.Any(c => c.Type == ConditionTypes.Ready && c.Status == "True") == true
                    && live.Status.ObservedGeneration == live.Metadata.Generation)
                {
                    return true;
                }

                await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
            }

            return false;
        }

        private static string Progress(DeepSeekModel model)
        {
            var status = model.Status;
            var shards = model.Spec.Experts.Shards;
            var routers = status?.Routers is { } r ? $"{r.ReadyReplicas}/{r.Replicas}" : $"0/{model.Spec.Router.Replicas}";
            var condition = status?.Conditions?.FirstOrDefault(c => c.Type == ConditionTypes.Ready && c.Status != "True")
                ?? status?.Conditions?.FirstOrDefault(c => c.Type == ConditionTypes.Progressing && c.Status == "True");
            var why = condition is null ? "" : $"  {condition.Reason}: {condition.Message}";
            return $"{model.Metadata.Name}: {status?.Phase?.ToString() ?? "Pending",-11} routers ready {routers}, shards ready {status?.ReadyShards ?? 0}/{shards}{why}";
        }

        private async Task ShowWarningsAsync(Kubernetes client, string ns, CancellationToken cancellationToken)
        {
            var events = await client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: "type=Warning", cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var warning in events.Items.Where(e => !WhileStarting(e)).OrderBy(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata.CreationTimestamp))
            {
                if (warningsShown.Add($"{warning.Metadata.Uid}/{warning.Count}"))
                {
                    await WriteAsync($"  warning: {warning.InvolvedObject.Kind.ToLowerInvariant()}/{warning.InvolvedObject.Name}: {warning.Reason}: {warning.Message}").ConfigureAwait(false);
                }
            }
        }

        // A model's pods fail their startup and readiness probes until it is loaded and its shards are found: expected,
        // and shown in the progress line; a failing liveness probe, a crash loop or a scheduling failure is not.
        private static bool WhileStarting(Corev1Event warning) =>
            warning.Reason == "Unhealthy"
            && (warning.Message.StartsWith("Startup probe failed", StringComparison.Ordinal) || warning.Message.StartsWith("Readiness probe failed", StringComparison.Ordinal));

        private async Task ReportPodsAsync(Kubernetes client, string ns, CancellationToken cancellationToken)
        {
            var pods = await client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var pod in pods.Items.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal))
            {
                var waiting = pod.Status?.ContainerStatuses?.Select(c => c.State?.Waiting?.Reason).FirstOrDefault(r => r is not null);
                var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
                await WriteAsync($"  pod {pod.Metadata.Name}: {pod.Status?.Phase}{(waiting is null ? "" : $" ({waiting})")}, {(ready ? "ready" : "not ready")}").ConfigureAwait(false);
            }
        }

        /// <summary>The gateway Service's cluster IP (which the dev cluster's service proxy serves on this machine) and a request to try.</summary>
        private async Task PrintEndpointAsync(Kubernetes client, DeepSeekModel model, string kubeconfig, CancellationToken cancellationToken)
        {
            var ns = model.Metadata.NamespaceProperty;
            var name = model.Metadata.Name;
            var service = await client.CoreV1.ReadNamespacedServiceAsync(name, ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            var port = service.Spec.Ports[0].Port;
            var address = service.Spec.ClusterIP;
            await WaitForListenerAsync(address, port, cancellationToken).ConfigureAwait(false);
            var endpoint = $"http://{address}:{port.ToString(CultureInfo.InvariantCulture)}/v1";
            var live = KubernetesJson.Deserialize<DeepSeekModel>(KubernetesJson.Serialize(
                await client.CustomObjects.GetNamespacedCustomObjectAsync(DeepSeekModel.Group, DeepSeekModel.Version, ns, DeepSeekModel.Plural, name, cancellationToken).ConfigureAwait(false)));
            await WriteAsync($"{name} is Ready. OpenAI-compatible API: {endpoint} (inside the cluster: {live.Status?.Endpoint})").ConfigureAwait(false);
            var key = model.Spec.Serving.ApiKeySecret is null ? "" : " -H \"Authorization: Bearer $DSOP_API_KEY\"";
            await output.WriteLineAsync($"""

                  curl -N {endpoint}/chat/completions -H 'Content-Type: application/json'{key} \
                    -d '{"{"}"model":"{name}","messages":[{"{"}"role":"user","content":"Hello, experts"{"}"}],"max_tokens":16,"stream":true{"}"}'

                In another terminal:
                  export KUBECONFIG={kubeconfig}
                  kubectl get deepseekmodels,pods -n {ns}
                  kubectl patch dsm {name} -n {ns} --type merge -p '{"{"}"spec":{"{"}"router":{"{"}"replicas":2{"}"}{"}"}{"}"}'

                Press Ctrl-C to stop the operator, the model's processes and the cluster.
                """).ConfigureAwait(false);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        // The service proxy starts listening once the Service has a ready endpoint, a moment after the model is Ready.
        private static async Task WaitForListenerAsync(string address, int port, CancellationToken cancellationToken)
        {
            for (var attempt = 0; attempt < 40; attempt++)
            {
                using var probe = new TcpClient();
                try
                {
                    await probe.ConnectAsync(address, port, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (SocketException)
                {
                    await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        private static async Task<int> CountProcessesAsync(Kubernetes client)
        {
            var pods = await client.CoreV1.ListPodForAllNamespacesAsync().ConfigureAwait(false);
            return pods.Items.Count(p => p.Status?.Phase == "Running" && p.Spec.Containers.Any(c => c.Image.StartsWith(DevClusterUp.ProjectImage, StringComparison.Ordinal)));
        }

        private async Task WriteAsync(string line)
        {
            await output.WriteLineAsync($"[{clock.Elapsed.TotalSeconds,6:0.0}s] {line}").ConfigureAwait(false);
            await output.FlushAsync().ConfigureAwait(false);
        }

        // Progress is this command's output: the cluster's and the operator's logs show warnings and errors only, on stderr.
        private static void Quiet(ILoggingBuilder logging) => logging
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(console => console.SingleLine = true)
            .SetMinimumLevel(LogLevel.Warning);
    }
}
