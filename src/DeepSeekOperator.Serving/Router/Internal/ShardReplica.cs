using DeepSeekOperator.Serving.Discovery;
using DeepSeekOperator.Serving.Protocol;
using Grpc.Net.Client;

namespace DeepSeekOperator.Serving.Router.Internal;

/// <summary>
/// One replica of an expert shard as the router sees it: a reused HTTP/2 cleartext channel, whether its last
/// call or probe succeeded, until when it is skipped after a failure, and the placement revisions it serves.
/// </summary>
internal sealed class ShardReplica : IDisposable
{
    private readonly Lock _gate = new();
    private bool? _reachable;
    private DateTimeOffset _coolingUntil = DateTimeOffset.MinValue;
    private long[] _servedRevisions = [];
    private int _probing;

    /// <param name="shard">The shard's index.</param>
    /// <param name="endpoint">Where the replica listens.</param>
    /// <param name="reconnectBackoff">The longest the channel waits before connecting again to a replica that went away.</param>
    public ShardReplica(int shard, ShardEndpoint endpoint, TimeSpan reconnectBackoff)
    {
        Shard = shard;
        Endpoint = endpoint;
        Channel = GrpcChannel.ForAddress(endpoint.Address, new GrpcChannelOptions
        {
            // A step's hidden states grow with the batch; the shard bounds what it accepts.
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            ThrowOperationCanceledOnCancellation = true,
            // The router skips failed replicas itself; a replica that comes back is used at the next probe, not minutes later.
            InitialReconnectBackoff = reconnectBackoff,
            MaxReconnectBackoff = reconnectBackoff,
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        Client = new ExpertShard.ExpertShardClient(Channel);
    }

    public int Shard { get; }

    public ShardEndpoint Endpoint { get; }

    public GrpcChannel Channel { get; }

    public ExpertShard.ExpertShardClient Client { get; }

    /// <summary>Whether the last call or probe succeeded (false before the first).</summary>
    public bool Reachable
    {
        get
        {
            lock (_gate)
            {
                return _reachable == true;
            }
        }
    }

    /// <summary>Whether the replica should be probed: nothing is known of it yet, its last call or probe failed, or it does not serve <paramref name="awaitedRevision"/>.</summary>
    public bool NeedsProbe(long? awaitedRevision)
    {
        lock (_gate)
        {
            return _reachable != true || (awaitedRevision is { } revision && !_servedRevisions.Contains(revision));
        }
    }

    /// <summary>Whether the replica was reachable at its last probe and lists <paramref name="revision"/>.</summary>
    public bool Serves(long revision)
    {
        lock (_gate)
        {
            return _reachable == true && _servedRevisions.Contains(revision);
        }
    }

    /// <summary>Whether the last call or probe succeeded, and the revisions the last probe listed.</summary>
    public ReplicaPlacementState State()
    {
        lock (_gate)
        {
            return new ReplicaPlacementState(Endpoint.ToString(), _reachable == true, _servedRevisions);
        }
    }

    public bool CoolingDown(DateTimeOffset now)
    {
        lock (_gate)
        {
            return now < _coolingUntil;
        }
    }

    /// <summary>Claims the replica for one probe; false when a probe is already under way.</summary>
    public bool TryStartProbe() => Interlocked.Exchange(ref _probing, 1) == 0;

    public void EndProbe() => Volatile.Write(ref _probing, 0);

    public void Succeeded()
    {
        lock (_gate)
        {
            _reachable = true;
            _coolingUntil = DateTimeOffset.MinValue;
        }
    }

    /// <summary>
    /// A probe answered: the replica is reachable and serves the revisions its info lists. Returns those
    /// revisions when they differ from what was known, null otherwise.
    /// </summary>
    public long[]? Probed(ShardInfo info)
    {
        long[] served = [.. info.ServedRevisions.Append(info.PlacementRevision).Distinct().Order()];
        lock (_gate)
        {
            _reachable = true;
            var changed = !served.SequenceEqual(_servedRevisions);
            _servedRevisions = served;
            return changed ? served : null;
        }
    }

    /// <summary>A call or probe failed: the replica is unreachable, and skipped until <paramref name="coolingUntil"/>.</summary>
    public void Failed(DateTimeOffset coolingUntil)
    {
        lock (_gate)
        {
            _reachable = false;
            _servedRevisions = [];
            if (coolingUntil > _coolingUntil)
            {
                _coolingUntil = coolingUntil;
            }
        }
    }

    public void Dispose() => Channel.Dispose();
}
