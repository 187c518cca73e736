using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Shard.Internal;
using Grpc.Core;

namespace DeepSeekOperator.Serving.Shard;

/// <summary>
/// The placement revisions one expert shard serves, each with the executor of the experts it gives the shard:
/// the newest and the one before it. While a new placement rolls out, routers still on the old revision keep
/// being answered; they switch only once every shard serves the new one (DESIGN.md §8).
/// </summary>
/// <remarks>
/// The shard owns the executors it is given: one dropped (by a third revision, or by <see cref="Dispose"/>) is
/// disposed, if it is <see cref="IDisposable"/>, once no call uses it any more.
/// </remarks>
public sealed class ShardRevisions : IDisposable
{
    /// <summary>How many revisions are served at once: the newest and the one before it.</summary>
    public const int Kept = 2;

    private readonly Lock _lock = new();
    private readonly List<Served> _served = [];
    private ShardInfo? _info;
    private bool _disposed;

    /// <summary>A shard that serves no revision yet.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public ShardRevisions(ExpertShardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The shard's index, model and dtype.</summary>
    public ExpertShardOptions Options { get; }

    /// <summary>The revisions served, oldest first; empty until the first <see cref="Add"/>.</summary>
    public IReadOnlyList<long> Revisions
    {
        get
        {
            lock (_lock)
            {
                return [.. _served.Select(s => s.Locator.Placement.Revision)];
            }
        }
    }

    /// <summary>The newest placement served, or null before the first <see cref="Add"/>.</summary>
    public ExpertLocator? Newest
    {
        get
        {
            lock (_lock)
            {
                return _served.Count == 0 ? null : _served[^1].Locator;
            }
        }
    }

    /// <summary>
    /// Serves <paramref name="locator"/>'s revision through <paramref name="executor"/> (which must hold the
    /// experts that placement gives this shard, and be safe to call concurrently), beside the newest served so
    /// far; the oldest beyond <see cref="Kept"/> is dropped.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The placement does not fit the model, has no shard of this index, or is not newer than the newest served.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The shard has been disposed.</exception>
    public void Add(ExpertLocator locator, IExpertExecutor executor)
    {
        ArgumentNullException.ThrowIfNull(locator);
        ArgumentNullException.ThrowIfNull(executor);
        var placement = locator.Placement;
        var problems = placement.Validate(Options.Config);
        if (problems.Count > 0)
        {
            throw new ArgumentException($"placement revision {placement.Revision} does not fit the model: {string.Join("; ", problems)}", nameof(locator));
        }

        if (Options.ShardIndex >= placement.Shards)
        {
            throw new ArgumentException($"ShardIndex {Options.ShardIndex} is not a shard of placement revision {placement.Revision}, which has {placement.Shards}", nameof(locator));
        }

        var held = Options.Config.MoeLayers.ToDictionary(layer => layer, layer => locator.ExpertsOn(Options.ShardIndex, layer));
        var added = new Served(locator, executor, new ForwardRequestCheck(Options.ShardIndex, Options.Config.HiddenSize, held));
        Served? dropped = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_served.Count > 0 && _served[^1].Locator.Placement.Revision >= placement.Revision)
            {
                throw new ArgumentException($"placement revision {placement.Revision} is not newer than revision {_served[^1].Locator.Placement.Revision}, the newest this shard serves", nameof(locator));
            }

            _served.Add(added);
            if (_served.Count > Kept)
            {
                dropped = _served[0];
                _served.RemoveAt(0);
                dropped = dropped.Drop() ? dropped : null;
            }

            _info = Describe(added, held);
        }

        dropped?.DisposeExecutor();
    }

    /// <summary>What <c>GetInfo</c> answers: the newest revision's experts, and every revision served.</summary>
    /// <exception cref="RpcException">UNAVAILABLE: no revision is served yet.</exception>
    internal ShardInfo Info()
    {
        lock (_lock)
        {
            return _info?.Clone() ?? throw new RpcException(new Status(StatusCode.Unavailable, "the shard serves no placement revision yet: its experts are loading"));
        }
    }

    /// <summary>The executor and check of <paramref name="revision"/>, held until the lease is disposed.</summary>
    /// <exception cref="RpcException">
    /// FAILED_PRECONDITION: the revision is not served (the message names it and those served); UNAVAILABLE: none is.
    /// </exception>
    internal Lease Acquire(ulong step, long revision)
    {
        lock (_lock)
        {
            if (_served.Count == 0)
            {
                throw ForwardRequestCheck.Refuse(StatusCode.Unavailable, step, "the shard serves no placement revision yet: its experts are loading");
            }

            foreach (var served in _served)
            {
                if (served.Locator.Placement.Revision == revision)
                {
                    served.Calls++;
                    return new Lease(this, served);
                }
            }

            throw ForwardRequestCheck.Refuse(StatusCode.FailedPrecondition, step, $"placement_revision {revision} is not served by this shard (it serves {string.Join(", ", _served.Select(s => s.Locator.Placement.Revision))})");
        }
    }

    /// <summary>Stops serving every revision; each executor is disposed once no call uses it.</summary>
    public void Dispose()
    {
        List<Served> idle;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            idle = [.. _served.Where(s => s.Drop())];
            _served.Clear();
            _info = null;
        }

        idle.ForEach(s => s.DisposeExecutor());
    }

    private void Release(Served served)
    {
        bool dispose;
        lock (_lock)
        {
            served.Calls--;
            dispose = served.Dropped && served.Calls == 0;
        }

        if (dispose)
        {
            served.DisposeExecutor();
        }
    }

    private ShardInfo Describe(Served newest, Dictionary<int, IReadOnlyList<int>> held) => new()
    {
        ModelId = newest.Locator.Placement.ModelId,
        PlacementRevision = newest.Locator.Placement.Revision,
        ShardIndex = (uint)Options.ShardIndex,
        Dtype = Options.Dtype,
        SupportedDtypes = { TensorDtype.Float32, TensorDtype.Bfloat16 },
        HiddenSize = (uint)Options.Config.HiddenSize,
        ExpertsPerLayer = { held.Select(l => new LayerExperts { Layer = (uint)l.Key, Expert = { l.Value.Select(e => (uint)e) } }) },
        ServedRevisions = { _served.Select(s => s.Locator.Placement.Revision) },
    };

    /// <summary>A call's hold on one revision: its executor is not disposed before the lease is.</summary>
    internal sealed class Lease(ShardRevisions owner, Served served) : IDisposable
    {
        private int _released;

        public long Revision => served.Locator.Placement.Revision;

        public IExpertExecutor Executor => served.Executor;

        public ForwardRequestCheck Check => served.Check;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(served);
            }
        }
    }

    /// <summary>One revision served; <see cref="Calls"/> and <see cref="Dropped"/> change only under the owner's lock.</summary>
    internal sealed class Served(ExpertLocator locator, IExpertExecutor executor, ForwardRequestCheck check)
    {
        public ExpertLocator Locator { get; } = locator;

        public IExpertExecutor Executor { get; } = executor;

        public ForwardRequestCheck Check { get; } = check;

        public int Calls { get; set; }

        public bool Dropped { get; private set; }

        /// <summary>Marks the revision dropped; true when no call uses it, so that its executor can go now.</summary>
        public bool Drop()
        {
            Dropped = true;
            return Calls == 0;
        }

        public void DisposeExecutor() => (Executor as IDisposable)?.Dispose();
    }
}
