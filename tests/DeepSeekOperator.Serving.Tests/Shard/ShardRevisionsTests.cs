using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Placement;
using DeepSeekOperator.Serving.Shard;
using Grpc.Core;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Tests.Shard;

public sealed class ShardRevisionsTests : IDisposable
{
    private static readonly ModelConfig Config = SyntheticModel.Config(SyntheticPreset.Tiny);
    private readonly ShardRevisions _revisions = new(new ExpertShardOptions { ShardIndex = 1, Config = Config });

    public void Dispose() => _revisions.Dispose();

    private static ExpertLocator Locator(long revision, int shards = 2) =>
        new(PlacementGenerator.Contiguous(Config, "tiny", revision, shards, PlacementGenerator.MinimumSlotsPerShard(Config.NRoutedExperts, shards)), Config);

    [Fact]
    public void Add_ThirdRevision_DropsTheFirstAndDisposesItsExecutor()
    {
        var first = new DisposalRecorder();
        var second = new DisposalRecorder();
        _revisions.Add(Locator(1), first);
        _revisions.Add(Locator(2), second);

        _revisions.Add(Locator(3), new DisposalRecorder());

        Assert.Equal([2L, 3L], _revisions.Revisions);
        Assert.True(first.Disposed);
        Assert.False(second.Disposed);
        Assert.Equal([2L, 3L], _revisions.Info().ServedRevisions);
        Assert.Equal(3L, _revisions.Info().PlacementRevision);
    }

    [Fact]
    public void Add_RevisionDroppedDuringACall_ExecutorDisposedOnlyWhenTheCallEnds()
    {
        var first = new DisposalRecorder();
        _revisions.Add(Locator(1), first);
        _revisions.Add(Locator(2), new DisposalRecorder());
        var lease = _revisions.Acquire(step: 1, revision: 1);

        _revisions.Add(Locator(3), new DisposalRecorder());

        Assert.False(first.Disposed);
        lease.Dispose();
        Assert.True(first.Disposed);
    }

    [Fact]
    public void Acquire_DroppedRevision_IsRefusedNamingTheServedOnes()
    {
        _revisions.Add(Locator(1), new DisposalRecorder());
        _revisions.Add(Locator(2), new DisposalRecorder());
        _revisions.Add(Locator(3), new DisposalRecorder());

        var error = Assert.Throws<RpcException>(() => _revisions.Acquire(step: 4, revision: 1));

        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Equal("step 4: placement_revision 1 is not served by this shard (it serves 2, 3)", error.Status.Detail);
    }

    [Fact]
    public void AcquireAndInfo_BeforeAnyRevision_AreUnavailable()
    {
        Assert.Equal(StatusCode.Unavailable, Assert.Throws<RpcException>(() => _revisions.Acquire(step: 1, revision: 1)).StatusCode);
        Assert.Equal(StatusCode.Unavailable, Assert.Throws<RpcException>(() => _revisions.Info()).StatusCode);
    }

    [Fact]
    public void Add_RevisionNotNewer_IsRefusedNamingBoth()
    {
        _revisions.Add(Locator(5), new DisposalRecorder());

        var error = Assert.Throws<ArgumentException>(() => _revisions.Add(Locator(5), new DisposalRecorder()));

        Assert.Contains("placement revision 5 is not newer than revision 5, the newest this shard serves", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Add_PlacementWithoutThisShard_IsRefusedNamingTheShardIndex()
    {
        var error = Assert.Throws<ArgumentException>(() => _revisions.Add(Locator(7, shards: 1), new DisposalRecorder()));

        Assert.Contains("ShardIndex 1 is not a shard of placement revision 7, which has 1", error.Message, StringComparison.Ordinal);
        Assert.Empty(_revisions.Revisions);
    }

    [Fact]
    public void Constructor_NegativeShardIndex_IsRefusedNamingIt()
    {
        var error = Assert.Throws<ArgumentException>(() => new ShardRevisions(new ExpertShardOptions { ShardIndex = -1, Config = Config }));

        Assert.Contains("ShardIndex must not be negative, got -1", error.Message, StringComparison.Ordinal);
    }

    /// <summary>An executor that is never called, recording whether it was disposed.</summary>
    private sealed class DisposalRecorder : IExpertExecutor, IDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask<Tensor> ForwardAsync(int layer, Tensor hidden, ExpertAssignments assignments, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the revisions only hold executors; calls go through the service");

        public void Dispose() => Disposed = true;
    }
}
