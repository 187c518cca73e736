using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using DeepSeekOperator.DevCluster.Internal.Controllers;
using DeepSeekOperator.DevCluster.Internal.Http;
using DeepSeekOperator.DevCluster.Internal.Resources;
using DeepSeekOperator.DevCluster.Internal.Storage;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>
/// The kubelet's pod sync for the pods bound to the runner's nodes, level-triggered per pod: admit the pod (a loopback
/// IP, directories, volumes), run its init containers in order and then its containers (as processes, or simulated),
/// restart them per <c>restartPolicy</c> with the kubelet's crash-loop back-off, act on probe results, and on deletion
/// stop every container (preStop, SIGTERM, SIGKILL after the grace period) and delete the pod with grace 0. Every
/// change is written to the pod's status as the kubelet's status manager writes it.
/// </summary>
internal sealed partial class Kubelet : ControllerLoop
{
    /// <summary>The kubelet's shortest grace period for a pod that vanished from the API (force deletion).</summary>
    private static readonly TimeSpan MinimumGracePeriod = TimeSpan.FromSeconds(2);

    private readonly PodRunnerOptions options;
    private readonly ProcessGuard guard;
    private readonly Prober prober;
    private readonly EventRecorder events;
    private readonly PodIpAllocator ips;
    private readonly HashSet<string> nodes;
    private readonly ConcurrentDictionary<string, PodRuntime> pods = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PodRuntime> podsByUid = new(StringComparer.Ordinal);

    /// <summary>The pods run here by each ConfigMap and Secret they name (namespace, storage key, name).</summary>
    private readonly Dictionary<(string Namespace, string StorageKey, string Name), HashSet<PodRuntime>> podsByReference = [];
    private readonly List<Task> abandoned = [];

    public Kubelet(ObjectService objects, PodRunnerOptions options, ProcessGuard guard, Prober prober, ILoggerFactory loggerFactory)
        : base(objects, loggerFactory, "kubelet")
    {
        this.options = options;
        this.guard = guard;
        this.prober = prober;
        events = new EventRecorder(objects);
        nodes = [.. options.NodeNames];
        ips = new PodIpAllocator(options.FirstPodIp);
    }

    private ResourceType Pods => Type("", "pods");

    /// <summary>The pod runtime of the pod with <paramref name="uid"/>, while the runner runs it.</summary>
    public PodRuntime? Find(string uid) => podsByUid.GetValueOrDefault(uid);

    /// <summary>
    /// Stops every container (SIGTERM, SIGKILL after <see cref="PodRunnerOptions.ShutdownGracePeriod"/>) and waits until
    /// every process is gone. Pods stay as they are in the API; their volumes stay on disk.
    /// </summary>
    public async Task StopAllAsync()
    {
        var all = pods.Values.ToList();
        pods.Clear();
        podsByUid.Clear();
        lock (podsByReference)
        {
            podsByReference.Clear();
        }

        await Task.WhenAll(all.Select(rt => StopContainersAsync(rt, options.ShutdownGracePeriod)));
        foreach (var rt in all)
        {
            await rt.Stopping.CancelAsync();
            ips.Release(rt.Ip);
        }

        Task[] pending;
        lock (abandoned)
        {
            pending = [.. abandoned];
        }

        await Task.WhenAll(pending);
    }

    protected override bool Watches(string storageKey) => storageKey is "pods" or "configmaps" or "secrets";

    protected override IEnumerable<string> KeysFor(StoreEvent change)
    {
        if (change.StorageKey == "pods")
        {
            return IsOurs(change.Object.Value) || (change.Previous is not null && IsOurs(change.Previous.Value)) ? [change.Object.Key] : [];
        }

        // A ConfigMap or Secret may feed a volume or the environment of a container waiting for it.
        lock (podsByReference)
        {
            return podsByReference.TryGetValue((change.Object.Namespace, change.StorageKey, change.Object.Name), out var named)
                ? [.. named.Select(rt => rt.Key)]
                : [];
        }
    }

    protected override IEnumerable<string> InitialKeys() =>
        Store.List(Pods.StorageKey, null).Items.Where(p => IsOurs(p.Value)).Select(p => p.Key);

    protected override Task ReconcileAsync(string key, CancellationToken cancellationToken)
    {
        Sync(key);
        return Task.CompletedTask;
    }

    private bool IsOurs(JsonObject pod) => Json.String(pod["spec"]?["nodeName"]) is { } node && nodes.Contains(node);

    private void Sync(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var (ns, name) = (key[..slash], key[(slash + 1)..]);
        var stored = Store.Get(Pods.StorageKey, ns, name)?.Value;
        pods.TryGetValue(key, out var rt);
        if (rt is not null && (stored is null || Meta.Uid(stored) != rt.Uid || !IsOurs(stored)))
        {
            // Deleted without waiting for the kubelet (grace 0, or a new pod of the same name): stop what ran.
            Forget(rt);
            Abandon(rt);
            rt = null;
        }

        if (stored is null || !IsOurs(stored))
        {
            return;
        }

        var pod = (JsonObject)stored.DeepClone();
        var deleting = Meta.IsDeleting(pod);
        if (rt is null)
        {
            if (deleting)
            {
                DeletePod(pod);
                return;
            }

            if (Json.String(pod["status"]?["phase"]) is "Succeeded" or "Failed")
            {
                return;
            }

            rt = Admit(pod);
        }

        var status = pod["status"] as JsonObject ?? [];
        status["podIP"] = rt.Ip;
        status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = rt.Ip });
        status["hostIP"] = HostIp;
        status["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = HostIp });
        pod["status"] = status;
        if (deleting && !rt.Terminating)
        {
            BeginTermination(rt, pod);
        }

        if (rt.Terminating)
        {
            EnforceKillDeadlines(rt);
            if (!rt.Running.Any())
            {
                // As the kubelet, reclaim the pod's resources before the terminal status lets the pod go.
                Forget(rt);
                CleanUp(rt);
                WriteStatus(rt, terminal: true);
                DeletePod(pod);
                return;
            }

            WriteStatus(rt, terminal: false);
            ScheduleNext(rt);
            return;
        }

        var mountError = rt.Volumes.Sync(pod);
        if (mountError is not null && mountError != rt.MountError)
        {
            events.Record(pod, null, "Warning", "FailedMount", mountError);
        }

        rt.MountError = mountError;
        if (mountError is null || rt.Containers.Values.Any(c => c.Current is not null))
        {
            RunContainers(rt, pod);
        }
        else
        {
            Enqueue(rt.Key, options.BackOffBase);
        }

        WriteStatus(rt, terminal: false);
        ScheduleNext(rt);
    }

    private PodRuntime Admit(JsonObject pod)
    {
        var uid = Meta.Uid(pod);
        var ns = Meta.Namespace(pod);
        var name = Meta.Name(pod);
        var status = pod["status"] as JsonObject;
        var ip = ips.Allocate(Json.String(status?["podIP"]));
        var directory = Path.Combine(options.RootDirectory, "pods", uid);
        var logs = Path.Combine(options.RootDirectory, "logs", $"{ns}_{name}_{uid}");
        var volumes = new PodVolumes(Store, directory, Path.Combine(options.RootDirectory, "pvc"));
        var startTime = Meta.ParseTime(Json.String(status?["startTime"])) ?? Time.GetUtcNow();
        var rt = new PodRuntime(ns, name, uid, ip, directory, logs, volumes, startTime) { References = PodReferences.Of(pod) };

        // A pod that ran before the runner restarted keeps counting its restarts.
        foreach (var (field, init) in ((string, bool)[])[("initContainerStatuses", true), ("containerStatuses", false)])
        {
            foreach (var previous in (status?[field] as JsonArray ?? []).OfType<JsonObject>())
            {
                var container = rt.Container(Json.String(previous["name"]) ?? "", init);
                var count = (int)(Json.Int64(previous["restartCount"]) ?? 0);
                container.RestartCount = Json.String(previous["containerID"]) is { Length: > 0 } ? count + 1 : count;
            }
        }

        pods[rt.Key] = rt;
        podsByUid[uid] = rt;
        lock (podsByReference)
        {
            foreach (var (storageKey, referenced) in rt.References)
            {
                if (!podsByReference.TryGetValue((ns, storageKey, referenced), out var named))
                {
                    named = [];
                    podsByReference[(ns, storageKey, referenced)] = named;
                }

                named.Add(rt);
            }
        }

        Log.PodAdmitted(Logger, rt.Key, ip);
        return rt;
    }

    private void RunContainers(PodRuntime rt, JsonObject pod)
    {
        var policy = RestartPolicy(pod);
        foreach (var spec in Specs(pod, "initContainers"))
        {
            var container = rt.Container(Json.String(spec["name"]) ?? "", init: true);
            if (container.Current is { HasExited: true, ExitCode: 0 })
            {
                continue;
            }

            if (container.Current is null)
            {
                Start(rt, container, spec, pod);
            }
            else if (container.Current.HasExited && policy != "Never")
            {
                Restart(rt, container, spec, pod);
            }

            return;
        }

        foreach (var spec in Specs(pod, "containers"))
        {
            var container = rt.Container(Json.String(spec["name"]) ?? "", init: false);
            if (container.Current is null)
            {
                Start(rt, container, spec, pod);
            }
            else if (container.IsRunning)
            {
                CheckProbes(rt, container, spec, pod);
            }
            else if (WillRestart(policy, container.Current))
            {
                Restart(rt, container, spec, pod);
            }
        }

        EnforceKillDeadlines(rt);
    }

    private void Start(PodRuntime rt, ContainerRuntime container, JsonObject spec, JsonObject pod)
    {
        var image = Json.String(spec["image"]) ?? "";
        var entrypoint = ResolveImage(image);
        if (container.Waiting is null)
        {
            events.Record(pod, container.Name, "Normal", "Pulled", $"Container image \"{image}\" already present on machine");
        }

        if (entrypoint is null)
        {
            container.Begin(ContainerInstance.Simulate($"dsop://simulated/{rt.Uid}/{container.Name}/{container.RestartCount}", Time));
            events.Record(pod, container.Name, "Normal", "Created", $"Created container: {container.Name}");
            events.Record(pod, container.Name, "Normal", "Started", $"Started container {container.Name}");
            return;
        }

        var (variables, error) = ContainerEnvironment.Build(Store, pod, spec, ServiceVariables());
        if (error is not null)
        {
            if (container.Waiting?.Message != error)
            {
                events.Record(pod, container.Name, "Warning", "Failed", $"Error: {error}");
            }

            container.Waiting = ("CreateContainerConfigError", error);
            Enqueue(rt.Key, options.BackOffBase);
            return;
        }

        var attempt = container.Current is null ? container.RestartCount : container.RestartCount + 1;
        var termination = TerminationMessage.Create(spec, Path.Combine(rt.Directory, "termination", container.Name), attempt);
        var (tokenMounts, kubeconfig) = MountsWithToken(rt, pod, spec);
        var mounts = tokenMounts.With(termination.MountPath, termination.HostFile);
        var environment = Inherited(pod);
        environment.Add(KeyValuePair.Create("KUBECONFIG", kubeconfig));
        environment.AddRange(variables.Select(v => KeyValuePair.Create(v.Key, mounts.Rewrite(v.Value))));
        string? Lookup(string name) => variables.FindLast(v => v.Key == name) is { Key: not null } found ? found.Value : null;
        var command = (spec["command"] as JsonArray)?.Select(c => mounts.Rewrite(Expansion.Expand(Json.String(c) ?? "", Lookup))).ToList();
        var args = (spec["args"] as JsonArray ?? []).Select(a => mounts.Rewrite(Expansion.Expand(Json.String(a) ?? "", Lookup)));
        List<string> argv = [.. command is { Count: > 0 } ? command : entrypoint, .. args];
        var workingDirectory = Json.String(spec["workingDir"]) is { Length: > 0 } dir
            ? mounts.Rewrite(dir)
            : Path.Combine(rt.Directory, "containers", container.Name);
        Directory.CreateDirectory(workingDirectory);
        var logDirectory = Directory.CreateDirectory(Path.Combine(rt.LogDirectory, container.Name)).FullName;
        File.Delete(Path.Combine(logDirectory, string.Create(CultureInfo.InvariantCulture, $"{attempt - 2}.log")));
        var log = new ContainerLog(Path.Combine(logDirectory, string.Create(CultureInfo.InvariantCulture, $"{attempt}.log")), Time);
        File.WriteAllText(log.Path, "");
        if (FindExecutable(argv[0], environment, workingDirectory) is null)
        {
            var message = $"failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"{argv[0]}\": executable file not found in $PATH: unknown";
            container.Begin(ContainerInstance.Failed(128, "StartError", Time));
            events.Record(pod, container.Name, "Warning", "Failed", $"Error: {message}");
            return;
        }

        events.Record(pod, container.Name, "Normal", "Created", $"Created container: {container.Name}");
        var key = rt.Key;
        var instance = ContainerInstance.Start(argv, environment, workingDirectory, log, termination, guard, Time, () => Enqueue(key));
        container.Begin(instance);
        Log.ContainerStarted(Logger, rt.Key, container.Name, instance.Pid, argv);
        events.Record(pod, container.Name, "Normal", "Started", $"Started container {container.Name}");
        if (!container.Init)
        {
            StartProbes(rt, container, spec, pod, instance, new ProbeTarget(rt.Ip, spec, environment, workingDirectory, mounts));
        }
    }

    private void StartProbes(PodRuntime rt, ContainerRuntime container, JsonObject spec, JsonObject pod, ContainerInstance instance, ProbeTarget target)
    {
        var stopping = CancellationTokenSource.CreateLinkedTokenSource(rt.Stopping.Token);
        _ = instance.Exited.ContinueWith(_ => stopping.Cancel(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        var key = rt.Key;
        var reference = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = Meta.Name(pod),
                ["namespace"] = Meta.Namespace(pod),
                ["uid"] = Meta.Uid(pod),
            },
            ["spec"] = new JsonObject { ["nodeName"] = Json.String(pod["spec"]?["nodeName"]), ["initContainers"] = pod["spec"]?["initContainers"]?.DeepClone() },
        };
        foreach (var (kind, field) in ((ProbeKind, string)[])[(ProbeKind.Startup, "startupProbe"), (ProbeKind.Readiness, "readinessProbe"), (ProbeKind.Liveness, "livenessProbe")])
        {
            if (spec[field] is not JsonObject probe)
            {
                continue;
            }

            var worker = new ProbeWorker(
                kind,
                (JsonObject)probe.DeepClone(),
                _ => container.Startup is not { Result: not ProbeWorker.ProbeState.Success },
                (w, outcome) => events.Record(reference, container.Name, "Warning", "Unhealthy", $"{w.Kind} probe failed: {outcome.Message}"),
                _ => Enqueue(key));
            switch (kind)
            {
                case ProbeKind.Startup:
                    container.Startup = worker;
                    break;
                case ProbeKind.Readiness:
                    container.Readiness = worker;
                    break;
                default:
                    container.Liveness = worker;
                    break;
            }

            _ = Task.Run(() => worker.RunAsync(prober, target, instance.StartedAt, Time, stopping.Token));
        }
    }

    private void CheckProbes(PodRuntime rt, ContainerRuntime container, JsonObject spec, JsonObject pod)
    {
        var instance = container.Current!;
        if (instance.KillReason is not null)
        {
            return;
        }

        var failed = container.Startup is { Result: ProbeWorker.ProbeState.Failure } ? container.Startup
            : container.Liveness is { Result: ProbeWorker.ProbeState.Failure } ? container.Liveness
            : null;
        if (failed is null)
        {
            return;
        }

        var grace = failed.TerminationGracePeriodSeconds ?? Json.Int64(pod["spec"]?["terminationGracePeriodSeconds"]) ?? 30;
        var probe = failed.Kind == ProbeKind.Startup ? "startup" : "liveness";
        Kill(rt, container, spec, pod, probe, $"Container {container.Name} failed {probe} probe, will be restarted", grace);
    }

    private void Restart(PodRuntime rt, ContainerRuntime container, JsonObject spec, JsonObject pod)
    {
        var finished = container.Current!.FinishedAt;
        if (InBackOff(container, Time.GetUtcNow()))
        {
            if (container.BackOffReported != finished)
            {
                container.BackOffReported = finished;
                events.Record(pod, container.Name, "Warning", "BackOff", $"Back-off restarting failed container {container.Name} in pod {rt.Name}_{rt.Namespace}({rt.Uid})");
            }

            return;
        }

        // flowcontrol.Backoff.Next: start over after a long quiet spell, else double up to the limit.
        var now = Time.GetUtcNow();
        container.BackOff = container.BackOff is { } backOff && finished - backOff.Updated <= 2 * options.BackOffMax
            ? (TimeSpan.FromTicks(Math.Min(backOff.Delay.Ticks * 2, options.BackOffMax.Ticks)), now)
            : (options.BackOffBase, now);
        Start(rt, container, spec, pod);
    }

    /// <summary>flowcontrol.Backoff.IsInBackOffSince for the exit of the container's current instance.</summary>
    private bool InBackOff(ContainerRuntime container, DateTimeOffset now) =>
        container.Current is { HasExited: true } current
        && container.BackOff is { } backOff
        && current.FinishedAt - backOff.Updated <= 2 * options.BackOffMax
        && now - current.FinishedAt < backOff.Delay;

    private static bool WillRestart(string policy, ContainerInstance instance) => policy switch
    {
        "Always" => true,
        "OnFailure" => instance.ExitCode != 0 || instance.KillReason is "liveness" or "startup",
        _ => false,
    };

    private void BeginTermination(PodRuntime rt, JsonObject pod)
    {
        rt.Terminating = true;
        var grace = Json.Int64(pod["metadata"]?["deletionGracePeriodSeconds"]) ?? Json.Int64(pod["spec"]?["terminationGracePeriodSeconds"]) ?? 30;
        var specs = Specs(pod, "initContainers").Concat(Specs(pod, "containers")).ToDictionary(s => Json.String(s["name"]) ?? "", StringComparer.Ordinal);
        foreach (var container in rt.Containers.Values.Where(c => c.IsRunning && c.Current!.KillReason is null))
        {
            Kill(rt, container, specs.GetValueOrDefault(container.Name) ?? [], pod, "deleted", $"Stopping container {container.Name}", grace);
        }
    }

    /// <summary>Stops a container as the kubelet's <c>killContainer</c> does: preStop hook, then SIGTERM; SIGKILL at the deadline.</summary>
    private void Kill(PodRuntime rt, ContainerRuntime container, JsonObject spec, JsonObject pod, string reason, string message, long graceSeconds)
    {
        var instance = container.Current!;
        instance.KillReason = reason;
        instance.KillDeadline = Time.GetUtcNow().AddSeconds(Math.Max(0, graceSeconds));
        events.Record(pod, container.Name, "Normal", "Killing", message);
        if (instance.Simulated)
        {
            instance.Signal(Signals.Terminate, Time);
            Enqueue(rt.Key);
            return;
        }

        if (spec["lifecycle"]?["preStop"] is JsonObject preStop)
        {
            var (variables, _) = ContainerEnvironment.Build(Store, pod, spec, ServiceVariables());
            var (mounts, kubeconfig) = MountsWithToken(rt, pod, spec);
            var environment = Inherited(pod);
            environment.Add(KeyValuePair.Create("KUBECONFIG", kubeconfig));
            environment.AddRange(variables);
            var target = new ProbeTarget(rt.Ip, spec, environment, Path.Combine(rt.Directory, "containers", container.Name), mounts);
            var timeout = instance.KillDeadline.Value - Time.GetUtcNow();
            _ = Task.Run(async () =>
            {
                var outcome = await prober.RunAsync(preStop, target, timeout > TimeSpan.Zero ? timeout : TimeSpan.FromSeconds(1), CancellationToken.None);
                if (!outcome.Success)
                {
                    events.Record(pod, container.Name, "Warning", "FailedPreStopHook", $"PreStopHook failed: {outcome.Message}");
                }

                instance.Signal(Signals.Terminate, Time);
            });
            return;
        }

        instance.Signal(Signals.Terminate, Time);
    }

    private void EnforceKillDeadlines(PodRuntime rt)
    {
        var now = Time.GetUtcNow();
        foreach (var instance in rt.Running.Where(i => i.KillDeadline <= now))
        {
            instance.Signal(Signals.Kill, Time);
        }
    }

    /// <summary>Requeues the pod for its next timed step: a back-off ending or a grace period running out.</summary>
    private void ScheduleNext(PodRuntime rt)
    {
        var now = Time.GetUtcNow();
        var times = rt.Containers.Values
            .Where(c => InBackOff(c, now))
            .Select(c => c.Current!.FinishedAt + c.BackOff!.Value.Delay)
            .Concat(rt.Running.Select(i => i.KillDeadline).OfType<DateTimeOffset>())
            .ToList();
        if (times.Count > 0)
        {
            var delay = times.Min() - now;
            Enqueue(rt.Key, delay > TimeSpan.Zero ? delay + TimeSpan.FromMilliseconds(5) : TimeSpan.FromMilliseconds(5));
        }
    }

    private void DeletePod(JsonObject pod)
    {
        try
        {
            Objects.Delete(Pods, "v1", Meta.Namespace(pod), Meta.Name(pod), new DeleteOptions(GracePeriodSeconds: 0, PreconditionUid: Meta.Uid(pod)));
        }
        catch (ApiException error) when (error.Code is 404 or 409)
        {
            // Already gone, or replaced by a new pod of the same name.
        }
    }

    private void Forget(PodRuntime rt)
    {
        pods.TryRemove(KeyValuePair.Create(rt.Key, rt));
        podsByUid.TryRemove(rt.Uid, out _);
        lock (podsByReference)
        {
            foreach (var (storageKey, referenced) in rt.References)
            {
                if (podsByReference.TryGetValue((rt.Namespace, storageKey, referenced), out var named) && named.Remove(rt) && named.Count == 0)
                {
                    podsByReference.Remove((rt.Namespace, storageKey, referenced));
                }
            }
        }
    }

    private void CleanUp(PodRuntime rt)
    {
        rt.Stopping.Cancel();
        try
        {
            rt.Volumes.TearDown();
            if (Directory.Exists(rt.LogDirectory))
            {
                Directory.Delete(rt.LogDirectory, recursive: true);
            }
        }
        catch (IOException error)
        {
            Log.CleanUpFailed(Logger, rt.Key, error);
        }

        ips.Release(rt.Ip);
        Log.PodRemoved(Logger, rt.Key);
    }

    private void Abandon(PodRuntime rt)
    {
        var stopping = Task.Run(async () =>
        {
            await StopContainersAsync(rt, MinimumGracePeriod);
            CleanUp(rt);
        });
        lock (abandoned)
        {
            abandoned.RemoveAll(t => t.IsCompleted);
            abandoned.Add(stopping);
        }
    }

    private async Task StopContainersAsync(PodRuntime rt, TimeSpan grace)
    {
        var running = rt.Running.ToList();
        foreach (var instance in running)
        {
            instance.Signal(Signals.Terminate, Time);
        }

        var all = Task.WhenAll(running.Select(i => i.Exited));
        if (await Task.WhenAny(all, Task.Delay(grace, Time)) != all)
        {
            foreach (var instance in running.Where(i => !i.HasExited))
            {
                instance.Signal(Signals.Kill, Time);
            }

            await all;
        }
    }

    private const string HostIp = "127.0.0.1";

    private static string RestartPolicy(JsonObject pod) => Json.String(pod["spec"]?["restartPolicy"]) ?? "Always";

    private static IEnumerable<JsonObject> Specs(JsonObject pod, string field) => (pod["spec"]?[field] as JsonArray ?? []).OfType<JsonObject>();

    /// <summary>The mapped command of <paramref name="image"/>: exact, or its repository with any tag or digest; the longest key wins.</summary>
    private IReadOnlyList<string>? ResolveImage(string image) =>
        options.Images
            .Where(m => image == m.Key || image.StartsWith(m.Key + ":", StringComparison.Ordinal) || image.StartsWith(m.Key + "@", StringComparison.Ordinal))
            .OrderByDescending(m => m.Key.Length)
            .Select(m => m.Value)
            .FirstOrDefault();

    /// <summary>
    /// The container's mounts, with the service-account token volume (written now) at its mount path when the pod's token
    /// is automounted, and what its processes get as <c>KUBECONFIG</c>: the volume's kubeconfig, else a path that does
    /// not exist, so that no client falls back to the host user's <c>~/.kube/config</c>.
    /// </summary>
    private (ContainerMounts Mounts, string Kubeconfig) MountsWithToken(PodRuntime rt, JsonObject pod, JsonObject spec)
    {
        var mounts = rt.Volumes.MountsOf(spec);
        if (options.Credentials is not { } credentials || !ServiceAccountToken.IsAutomounted(Store, pod))
        {
            return (mounts, ServiceAccountToken.MissingKubeconfig(rt.Directory));
        }

        var directory = ServiceAccountToken.Directory(rt.Directory);
        var kubeconfig = ServiceAccountToken.Write(directory, credentials, rt.Namespace, ServiceAccountToken.AccountName(pod));
        return (mounts.With(ServiceAccountToken.MountPath, directory), kubeconfig);
    }

    /// <summary>What an image's ENV would give: variables of the dev cluster's own environment, and the pod's hostname.</summary>
    private List<KeyValuePair<string, string>> Inherited(JsonObject pod)
    {
        var environment = options.InheritedEnvironment
            .Select(name => (name, value: Environment.GetEnvironmentVariable(name)))
            .Where(v => v.value is not null)
            .Select(v => KeyValuePair.Create(v.name, v.value!))
            .ToList();
        environment.Add(KeyValuePair.Create("HOSTNAME", Json.String(pod["spec"]?["hostname"]) ?? Meta.Name(pod)));
        return environment;
    }

    /// <summary>The variables of the <c>kubernetes</c> Service the kubelet gives every container, pointing at the API server.</summary>
    private List<KeyValuePair<string, string>> ServiceVariables()
    {
        string? host = null;
        string? port = null;
        if (options.ApiServer is { } uri)
        {
            (host, port) = (uri.Host, uri.Port.ToString(CultureInfo.InvariantCulture));
        }
        else if (Store.Get("endpoints", "default", "kubernetes")?.Value["subsets"]?[0] is JsonObject subset)
        {
            host = Json.String(subset["addresses"]?[0]?["ip"]);
            port = Json.Int64(subset["ports"]?[0]?["port"])?.ToString(CultureInfo.InvariantCulture);
        }

        return host is null || port is null
            ? []
            :
            [
                KeyValuePair.Create("KUBERNETES_SERVICE_HOST", host),
                KeyValuePair.Create("KUBERNETES_SERVICE_PORT", port),
                KeyValuePair.Create("KUBERNETES_SERVICE_PORT_HTTPS", port),
                KeyValuePair.Create("KUBERNETES_PORT", $"tcp://{host}:{port}"),
            ];
    }

    private static string? FindExecutable(string file, IEnumerable<KeyValuePair<string, string>> environment, string workingDirectory)
    {
        if (file.Contains('/', StringComparison.Ordinal))
        {
            var path = Path.Combine(workingDirectory, file);
            return File.Exists(path) ? path : null;
        }

        var searchPath = environment.LastOrDefault(v => v.Key == "PATH").Value ?? "/usr/local/bin:/usr/bin:/bin";
        return searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, file)).FirstOrDefault(File.Exists);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Debug, Message = "Pod {Pod} admitted with IP {Ip}")]
        public static partial void PodAdmitted(ILogger logger, string pod, string ip);

        [LoggerMessage(Level = LogLevel.Information, Message = "Pod {Pod}: container {Container} started as process {Pid}: {Command}")]
        public static partial void ContainerStarted(ILogger logger, string pod, string container, int pid, IReadOnlyList<string> command);

        [LoggerMessage(Level = LogLevel.Debug, Message = "Pod {Pod} removed")]
        public static partial void PodRemoved(ILogger logger, string pod);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Pod {Pod}: its directories could not be removed")]
        public static partial void CleanUpFailed(ILogger logger, string pod, Exception error);
    }
}
