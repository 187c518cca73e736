using DeepSeekOperator.Serving.Discovery;
using k8s;
using Microsoft.Extensions.Logging;

namespace DeepSeekOperator.Serving.Hosting;

/// <summary>How a router finds the replicas of the expert shards.</summary>
public enum ShardDiscoveryKind
{
    /// <summary>Endpoints given up front (<c>--shard k=host:port,…</c>): tests and hand-started processes.</summary>
    Static,

    /// <summary>The A records of one headless Service per shard, looked up again periodically.</summary>
    Dns,

    /// <summary>The EndpointSlices of one Service per shard, watched through the Kubernetes API.</summary>
    EndpointSlices,
}

/// <summary>Which resolver a router uses, and its settings.</summary>
public sealed record ShardDiscoveryOptions
{
    /// <summary>The resolver.</summary>
    public ShardDiscoveryKind Kind { get; init; } = ShardDiscoveryKind.Static;

    /// <summary>For <see cref="ShardDiscoveryKind.Static"/>: the <c>k=host:port[,host:port…]</c> values, one per shard.</summary>
    public IReadOnlyList<string> StaticShards { get; init; } = [];

    /// <summary>For DNS and EndpointSlices: the prefix of every shard Service, <c>&lt;prefix&gt;-shard-&lt;k&gt;</c> (the DeepSeekModel's name).</summary>
    public string? ServicePrefix { get; init; }

    /// <summary>For DNS and EndpointSlices: the namespace of the shard Services.</summary>
    public string? Namespace { get; init; }

    /// <summary>For DNS: the port every replica serves gRPC on.</summary>
    public int Port { get; init; } = ShardHostOptions.DefaultGrpcPort;

    /// <summary>For DNS: how often the names are looked up again.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>For EndpointSlices: the name of the slice port that serves gRPC; a slice's only port when null.</summary>
    public string? PortName { get; init; }

    /// <summary>Throws when the settings of <see cref="Kind"/> are missing or out of range.</summary>
    /// <exception cref="ArgumentException">The message names the setting.</exception>
    public void Validate()
    {
        switch (Kind)
        {
            case ShardDiscoveryKind.Static when StaticShards.Count == 0:
                throw new ArgumentException("static discovery needs the endpoints of every shard (--shard k=host:port)", nameof(StaticShards));
            case ShardDiscoveryKind.Static:
                return;
            case ShardDiscoveryKind.Dns or ShardDiscoveryKind.EndpointSlices:
                if (string.IsNullOrWhiteSpace(ServicePrefix))
                {
                    throw new ArgumentException($"{Kind} discovery needs the shard Services' prefix (the model's name)", nameof(ServicePrefix));
                }

                if (string.IsNullOrWhiteSpace(Namespace))
                {
                    throw new ArgumentException($"{Kind} discovery needs the shard Services' namespace", nameof(Namespace));
                }

                return;
            default:
                throw new ArgumentException($"Kind {(int)Kind} is not a discovery kind", nameof(Kind));
        }
    }

    /// <summary>Creates the resolver for a placement of <paramref name="shards"/> shards.</summary>
    /// <exception cref="FormatException">A static endpoint is malformed.</exception>
    /// <exception cref="ArgumentException">The static endpoints name another number of shards than the placement has.</exception>
    public IShardResolver CreateResolver(int shards, ILoggerFactory loggers, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        Validate();
        switch (Kind)
        {
            case ShardDiscoveryKind.Static:
                var resolver = StaticShardResolver.Parse(StaticShards);
                return resolver.Shards == shards
                    ? resolver
                    : throw new ArgumentException($"StaticShards (--shard) gives endpoints of {resolver.Shards} shards; the placement has {shards}", nameof(shards));
            case ShardDiscoveryKind.Dns:
                return new DnsShardResolver(
                    new DnsShardResolverOptions { Model = ServicePrefix!, Namespace = Namespace!, Shards = shards, Port = Port, Interval = Interval },
                    loggers.CreateLogger<DnsShardResolver>(),
                    time);
            default:
                // In a pod: the service account's token; elsewhere: the kubeconfig ($KUBECONFIG or ~/.kube/config).
                var client = new Kubernetes(KubernetesClientConfiguration.BuildDefaultConfig());
                return new EndpointSliceShardResolver(
                    client,
                    new EndpointSliceShardResolverOptions { Model = ServicePrefix!, Namespace = Namespace!, Shards = shards, PortName = PortName },
                    loggers.CreateLogger<EndpointSliceShardResolver>(),
                    time);
        }
    }
}
