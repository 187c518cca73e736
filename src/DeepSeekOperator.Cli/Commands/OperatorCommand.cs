using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;
using DeepSeekOperator.Controller.Autoscaling;
using DeepSeekOperator.Controller.Children;
using DeepSeekOperator.Controller.Hosting;
using DeepSeekOperator.Controller.Placement;
using DeepSeekOperator.Controller.Reconciling;

namespace DeepSeekOperator.Cli.Commands;

/// <summary>
/// <c>dsop operator</c>: the operator process. Its replicas elect a leader on a Lease; the leader reconciles every
/// DeepSeekModel into its routers, shards and their Services, and every replica serves <c>/healthz</c>,
/// <c>/readyz</c> and <c>/metrics</c>.
/// </summary>
internal static partial class OperatorCommand
{
    private const string DefaultBind = "0.0.0.0";
    private const int DefaultWorkers = 4;

    // This binary's own image, which the dev cluster's pod runner maps to this dsop.
    private static string DefaultRuntimeImage => $"{DevClusterUp.ProjectImage}:{VersionCommand.Version}";

    public static Command Create()
    {
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "The kubeconfig to connect with (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)." };
        var watched = new Option<string[]>("--watch-namespace", "--namespace")
        {
            Description = "Reconcile the DeepSeekModels of this namespace only, caching nothing outside it (repeatable; default: every namespace).",
            AllowMultipleArgumentsPerToken = false,
        };
        var leaseNamespace = new Option<string?>("--lease-namespace") { Description = "The namespace of the leader-election Lease (default: the kubeconfig context's or the pod's, else default)." };
        var leaseName = new Option<string>("--lease-name") { Description = "The name of the leader-election Lease.", DefaultValueFactory = _ => OperatorHostOptions.DefaultLeaseName };
        var port = new Option<int>("--metrics-port") { Description = "The port of /healthz, /readyz and /metrics (0 picks a free one).", DefaultValueFactory = _ => OperatorHostOptions.DefaultPort };
        var bind = new Option<string>("--bind") { Description = "The IP address the port is bound on.", DefaultValueFactory = _ => DefaultBind };
        var workers = new Option<int>("--workers") { Description = "How many DeepSeekModels are reconciled at once.", DefaultValueFactory = _ => DefaultWorkers };
        var runtimeImage = new Option<string>("--runtime-image")
        {
            Description = "The image of routers and shards for a model whose spec.runtime.image is unset (default: this dsop's own image).",
            DefaultValueFactory = _ => DefaultRuntimeImage,
        };
        var command = new Command("operator", "Run the operator: reconcile DeepSeekModels into running deployments, until interrupted.")
        {
            kubeconfig, watched, leaseNamespace, leaseName, port, bind, workers, runtimeImage,
        };
        var hostOptionNames = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [nameof(OperatorHostOptions.Kubeconfig)] = kubeconfig.Name,
            [nameof(OperatorHostOptions.LeaseNamespace)] = leaseNamespace.Name,
            [nameof(OperatorHostOptions.LeaseName)] = leaseName.Name,
            [nameof(OperatorHostOptions.Port)] = port.Name,
            [nameof(OperatorHostOptions.BindAddress)] = bind.Name,
        };
        OperatorHostOptions HostOptions(CommandResult result) => new()
        {
            Kubeconfig = result.GetValue(kubeconfig)?.FullName,
            LeaseNamespace = result.GetValue(leaseNamespace),
            LeaseName = Given(result, leaseName, OperatorHostOptions.DefaultLeaseName),
            Port = Given(result, port, OperatorHostOptions.DefaultPort),
            BindAddress = Given(result, bind, DefaultBind),
        };
        command.Validators.Add(result =>
        {
            try
            {
                HostOptions(result).Validate();
            }
            catch (ArgumentException ex) when (ex.ParamName is { } name && hostOptionNames.TryGetValue(name, out var option))
            {
                // The host's messages begin with the property's name: the command line names the option instead.
                result.AddError(option + ex.Message[name.Length..].Replace($" (Parameter '{name}')", "", StringComparison.Ordinal));
            }

            foreach (var only in result.GetValue(watched) ?? [])
            {
                if (!IsDnsLabel(only))
                {
                    result.AddError($"--watch-namespace \"{only}\" is not a DNS label (lowercase letters, digits and '-', at most 63)");
                }
            }

            if (Given(result, workers, DefaultWorkers) is var count and < 1)
            {
                result.AddError($"--workers must be at least 1, got {count}");
            }

            if (string.IsNullOrWhiteSpace(Given(result, runtimeImage, DefaultRuntimeImage)))
            {
                result.AddError("--runtime-image must not be empty");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new OperatorSettings { RuntimeImage = Given(parseResult.CommandResult, runtimeImage, DefaultRuntimeImage) };
            var workerCount = Given(parseResult.CommandResult, workers, DefaultWorkers);

            // One set of controllers per watched namespace, each with informers of its namespace only (null: every
            // namespace), so that a namespaced install needs Roles in those namespaces and no cluster-wide list or watch.
            string?[] namespaces = parseResult.GetValue(watched) is { Length: > 0 } given ? [.. given.Distinct(StringComparer.Ordinal)] : [null];
            OperatorHost host;
            try
            {
                var controllers = namespaces.SelectMany(ns => new[]
                {
                    DeepSeekModelController.Factory(new DeepSeekModelControllerOptions { Settings = settings, Namespace = ns, Workers = workerCount }),
                    ModelAutoscaler.Factory(new ModelAutoscalerOptions { Namespace = ns }),
                    RebalancerController.Factory(new RebalancerOptions { Settings = settings, Namespace = ns }),
                }).ToList();
                host = await OperatorHost.StartAsync(HostOptions(parseResult.CommandResult), controllers, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is k8s.Exceptions.KubeConfigException or YamlDotNet.Core.YamlException or IOException or UnauthorizedAccessException)
            {
                throw new CommandException($"cannot start the operator: {ex.Message}", ex);
            }

            await using (host.ConfigureAwait(false))
            {
                var output = parseResult.InvocationConfiguration.Output;
                await output.WriteLineAsync(
                    $"operator {host.Identity}: metrics and probes on http://{host.Endpoint}; leader election on Lease {host.Lease}").ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await host.Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Ctrl+C: the controllers finish the reconciles in flight and the lease is given up as the host is disposed.
                }
                catch (Exception ex)
                {
                    // Lost leadership or a failed controller: a fresh process starts from a clean state.
                    throw new CommandException($"the operator stopped: {ex.Message}", ex);
                }
            }

            return 0;
        });
        return command;
    }

    // A validator sees only the options given, not the defaults of those left out: both the checks and the run read
    // the value through here, so that they agree.
    private static T Given<T>(CommandResult result, Option<T> option, T omitted) =>
        result.GetResult(option) is { Implicit: false } ? result.GetValue(option)! : omitted;

    /// <summary>Whether <paramref name="name"/> can name a namespace: a DNS label (RFC 1123).</summary>
    internal static bool IsDnsLabel(string name) => name.Length <= 63 && DnsLabel().IsMatch(name);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
