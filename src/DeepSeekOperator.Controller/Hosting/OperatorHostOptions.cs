using System.Net;
using System.Text.RegularExpressions;

namespace DeepSeekOperator.Controller.Hosting;

/// <summary>
/// How the operator process runs: where it serves <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>, which cluster it
/// talks to, and the coordination.k8s.io Lease its replicas elect a leader on (controller-runtime's defaults: 15 s lease,
/// 10 s renew deadline, 2 s retry period).
/// </summary>
public sealed partial record OperatorHostOptions
{
    /// <summary>The port of the probes and metrics when none is given.</summary>
    public const int DefaultPort = 8080;

    /// <summary>The name of the Lease when none is given.</summary>
    public const string DefaultLeaseName = "deepseek-operator";

    // How far client-go lets a retry stretch (its JitterFactor): the renew deadline must leave room for one.
    private const double RetryJitter = 1.2;

    /// <summary>The address the port is bound on, e.g. <c>0.0.0.0</c> (every IPv4 interface) or <c>127.0.0.1</c>.</summary>
    public string BindAddress { get; init; } = "0.0.0.0";

    /// <summary>The port of <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>; 0 picks a free one.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>A kubeconfig file to connect with; when null, <c>KUBECONFIG</c>, <c>~/.kube/config</c> or the in-cluster service account.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>The name of the Lease the replicas elect a leader on.</summary>
    public string LeaseName { get; init; } = DefaultLeaseName;

    /// <summary>The namespace of the Lease; when null, the kubeconfig context's or the pod's namespace, else <c>default</c>.</summary>
    public string? LeaseNamespace { get; init; }

    /// <summary>This replica's name in the Lease: unique per process (see <see cref="NewIdentity"/>).</summary>
    public string Identity { get; init; } = NewIdentity();

    /// <summary>How long a leader's lease lasts without renewal before another replica may take it.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps trying to renew before it gives leadership up.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often replicas try to acquire or renew the lease.</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether stopping gives the lease up at once, so that a standby takes over without waiting for it to expire.</summary>
    public bool ReleaseOnStop { get; init; } = true;

    /// <summary>
    /// Whether losing leadership stops the host (as controller-runtime exits the process, so that a fresh one starts from
    /// a clean state); when false the host stops its controllers and stands by for the lease again.
    /// </summary>
    public bool ExitOnLostLeadership { get; init; } = true;

    /// <summary>The pod's name (<c>POD_NAME</c>, from the downward API) or else the host's name, and a unique suffix, as controller-runtime names replicas.</summary>
    public static string NewIdentity()
    {
        var pod = Environment.GetEnvironmentVariable("POD_NAME");
        return $"{(string.IsNullOrEmpty(pod) ? Environment.MachineName : pod)}_{Guid.NewGuid():N}";
    }

    /// <summary>Throws when an option is out of range or options contradict each other.</summary>
    /// <exception cref="ArgumentException">The message names the option.</exception>
    public void Validate()
    {
        if (!IPAddress.TryParse(BindAddress, out _))
        {
            throw new ArgumentException($"BindAddress \"{BindAddress}\" is not an IP address", nameof(BindAddress));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"Port must be between 0 and 65535, got {Port}", nameof(Port));
        }

        if (Kubeconfig is not null && !File.Exists(Kubeconfig))
        {
            throw new ArgumentException($"Kubeconfig \"{Kubeconfig}\" is not a file", nameof(Kubeconfig));
        }

        if (LeaseName is null || LeaseName.Length > 253 || !Subdomain().IsMatch(LeaseName))
        {
            throw new ArgumentException($"LeaseName \"{LeaseName}\" is not a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253)", nameof(LeaseName));
        }

        if (LeaseNamespace is not null && (LeaseNamespace.Length > 63 || !Label().IsMatch(LeaseNamespace)))
        {
            throw new ArgumentException($"LeaseNamespace \"{LeaseNamespace}\" is not a DNS label (lowercase letters, digits and '-', at most 63)", nameof(LeaseNamespace));
        }

        if (string.IsNullOrWhiteSpace(Identity))
        {
            throw new ArgumentException("Identity must not be empty", nameof(Identity));
        }

        ValidateTimings();
    }

    private void ValidateTimings()
    {
        // The Lease stores whole seconds.
        if (LeaseDuration < TimeSpan.FromSeconds(1) || LeaseDuration.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentException($"LeaseDuration must be a whole number of seconds, at least 1, got {LeaseDuration}", nameof(LeaseDuration));
        }

        if (RenewDeadline <= TimeSpan.Zero || RenewDeadline >= LeaseDuration)
        {
            throw new ArgumentException($"RenewDeadline must be positive and below LeaseDuration {LeaseDuration}, got {RenewDeadline}", nameof(RenewDeadline));
        }

        if (RetryPeriod <= TimeSpan.Zero || RetryPeriod * RetryJitter >= RenewDeadline)
        {
            throw new ArgumentException($"RetryPeriod must be positive and, stretched by {RetryJitter}, below RenewDeadline {RenewDeadline}, got {RetryPeriod}", nameof(RetryPeriod));
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Label();
}
