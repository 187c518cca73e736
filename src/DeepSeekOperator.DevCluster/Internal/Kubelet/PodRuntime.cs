namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>What the runner holds for one pod it runs: its sandbox (IP, directories, volumes) and its containers.</summary>
internal sealed class PodRuntime(string ns, string name, string uid, string ip, string directory, string logDirectory, PodVolumes volumes, DateTimeOffset startTime)
{
    public string Namespace => ns;

    public string Name => name;

    public string Key => $"{ns}/{name}";

    public string Uid => uid;

    public string Ip => ip;

    /// <summary><c>pods/&lt;uid&gt;</c> under the runner's root.</summary>
    public string Directory => directory;

    /// <summary><c>logs/&lt;ns&gt;_&lt;pod&gt;_&lt;uid&gt;</c> under the runner's root.</summary>
    public string LogDirectory => logDirectory;

    public PodVolumes Volumes => volumes;

    /// <summary>The ConfigMaps and Secrets the pod's spec names (<see cref="PodReferences"/>).</summary>
    public required IReadOnlySet<(string StorageKey, string Name)> References { get; init; }

    public DateTimeOffset StartTime => startTime;

    /// <summary>The pod's init and regular containers, by name.</summary>
    public Dictionary<string, ContainerRuntime> Containers { get; } = new(StringComparer.Ordinal);

    /// <summary>The last <c>FailedMount</c> message, while volumes cannot be set up.</summary>
    public string? MountError { get; set; }

    /// <summary>Set once the pod is being deleted and its containers are being stopped.</summary>
    public bool Terminating { get; set; }

    /// <summary>Stops the probes of every container when the pod goes.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    public ContainerRuntime Container(string containerName, bool init)
    {
        if (!Containers.TryGetValue(containerName, out var container))
        {
            container = new ContainerRuntime(containerName, init);
            Containers[containerName] = container;
        }

        return container;
    }

    /// <summary>Every instance still running (or simulated and not stopped).</summary>
    public IEnumerable<ContainerInstance> Running => Containers.Values.Select(c => c.Current).OfType<ContainerInstance>().Where(i => !i.HasExited);
}

/// <summary>One container of a pod: its current and previous instances, restart count, back-off and probes.</summary>
internal sealed class ContainerRuntime(string name, bool init)
{
    public string Name => name;

    public bool Init => init;

    /// <summary>The latest instance, running or exited.</summary>
    public ContainerInstance? Current { get; private set; }

    /// <summary>The instance before <see cref="Current"/>, whose log <c>kubectl logs --previous</c> reads.</summary>
    public ContainerInstance? Previous { get; private set; }

    public int RestartCount { get; set; }

    /// <summary>Why the container cannot be created now (<c>CreateContainerConfigError</c> and its message), if so.</summary>
    public (string Reason, string Message)? Waiting { get; set; }

    /// <summary>The back-off of <c>flowcontrol.Backoff</c>: the current delay and when it was last raised.</summary>
    public (TimeSpan Delay, DateTimeOffset Updated)? BackOff { get; set; }

    /// <summary>The finish time of the instance whose back-off was reported with a <c>BackOff</c> event.</summary>
    public DateTimeOffset? BackOffReported { get; set; }

    public ProbeWorker? Startup { get; set; }

    public ProbeWorker? Readiness { get; set; }

    public ProbeWorker? Liveness { get; set; }

    public bool IsRunning => Current is { HasExited: false };

    /// <summary>Started: running and its startup probe, if any, has succeeded.</summary>
    public bool Started => IsRunning && Startup is not { Result: not ProbeWorker.ProbeState.Success };

    /// <summary>Ready: started and its readiness probe, if any, succeeds.</summary>
    public bool Ready => Started && Readiness is not { Result: not ProbeWorker.ProbeState.Success };

    /// <summary>Makes <paramref name="instance"/> current; a restart when one ran before.</summary>
    public void Begin(ContainerInstance instance)
    {
        if (Current is not null)
        {
            Previous = Current;
            RestartCount++;
        }

        Current = instance;
        Waiting = null;
        Startup = Readiness = Liveness = null;
    }
}
