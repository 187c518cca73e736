namespace DeepSeekOperator.DevCluster.Internal.Kubelet;

/// <summary>How the pod runner runs the pods bound to its nodes.</summary>
internal sealed record PodRunnerOptions
{
    /// <summary>The nodes whose pods (by <c>spec.nodeName</c>) this runner runs.</summary>
    public required IReadOnlyList<string> NodeNames { get; init; }

    /// <summary>
    /// Where pods' directories (volumes, logs) and persistent volume claims live:
    /// <c>pods/&lt;uid&gt;/</c>, <c>logs/&lt;ns&gt;_&lt;pod&gt;_&lt;uid&gt;/</c> and <c>pvc/&lt;ns&gt;/&lt;claim&gt;/</c>.
    /// </summary>
    public required string RootDirectory { get; init; }

    /// <summary>
    /// Images that run as local processes, each mapped to the command that plays the image's ENTRYPOINT (e.g.
    /// <c>ghcr.io/deepseek-operator/dsop</c> → <c>[/path/to/dsop]</c>, or <c>[dotnet, /path/to/x.dll]</c>). A key
    /// matches an image equal to it, or the same repository with any tag or digest (<c>key:tag</c>, <c>key@sha256:…</c>);
    /// the longest key wins. Every other image runs simulated: Running and Ready without a process.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Images { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// The first pod IP; pods get this address and the ones after it (skipping <c>.0</c> and <c>.255</c>). Runners
    /// sharing a machine take ranges far apart.
    /// </summary>
    public string FirstPodIp { get; init; } = "127.0.0.2";

    /// <summary>The first restart back-off of a crashing container (the kubelet's is 10 s); it doubles on each crash.</summary>
    public TimeSpan BackOffBase { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest restart back-off (the kubelet's is 5 minutes).</summary>
    public TimeSpan BackOffMax { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long processes get between SIGTERM and SIGKILL when the runner stops.</summary>
    public TimeSpan ShutdownGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The API server address processes get as <c>KUBERNETES_SERVICE_HOST</c>/<c>KUBERNETES_SERVICE_PORT</c>; null takes
    /// it from the <c>kubernetes</c> Endpoints of the <c>default</c> namespace.
    /// </summary>
    public Uri? ApiServer { get; init; }

    /// <summary>
    /// The API server's HTTPS address, CA and token, written with a kubeconfig into every pod whose service-account
    /// token is automounted (its processes get <c>KUBECONFIG</c>); null gives no pod credentials.
    /// </summary>
    public ServiceAccountCredentials? Credentials { get; init; }

    /// <summary>
    /// Variables of the dev cluster's own environment that every process gets first, as an image's <c>ENV</c> would
    /// give them (the container's <c>env</c> overrides them).
    /// </summary>
    public IReadOnlyList<string> InheritedEnvironment { get; init; } =
        ["PATH", "HOME", "TMPDIR", "LANG", "DOTNET_ROOT", "DOTNET_CLI_HOME", "DOTNET_NOLOGO", "NUGET_PACKAGES"];
}
