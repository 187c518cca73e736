using DeepSeekOperator.Serving.Discovery;

namespace DeepSeekOperator.Serving.Tests.Discovery;

public class ShardEndpointsTests
{
    private static readonly ShardEndpoint A = new("10.0.0.1", 9000);
    private static readonly ShardEndpoint B = new("10.0.0.2", 9000);

    [Fact]
    public void Equals_SameReplicasInAnotherOrderWithDuplicates_AreEqual()
    {
        var one = new ShardEndpoints([[A, B], [B]]);
        var other = new ShardEndpoints([[B, A, B], [B]]);

        Assert.Equal(one, other);
        Assert.Equal(one.GetHashCode(), other.GetHashCode());
        Assert.NotEqual(one, new ShardEndpoints([[A, B], [A]]));
        Assert.NotEqual(one, new ShardEndpoints([[A, B]]));
    }

    [Fact]
    public void IsReady_AShardWithoutReplicas_IsFalseAndTheShardIsNamed()
    {
        var endpoints = new ShardEndpoints([[A], [], [B], []]);

        Assert.False(endpoints.IsReady);
        Assert.Equal([1, 3], endpoints.ShardsWithoutReplicas);
        Assert.Equal("0: 10.0.0.1:9000; 1: none; 2: 10.0.0.2:9000; 3: none", endpoints.ToString());
    }

    [Fact]
    public void None_IsNotReady_EvenWithNoShards()
    {
        Assert.False(ShardEndpoints.None(2).IsReady);
        Assert.False(ShardEndpoints.None(0).IsReady);
    }

    [Fact]
    public void Indexer_ShardOutOfRange_Throws()
    {
        var endpoints = new ShardEndpoints([[A]]);

        Assert.Throws<ArgumentOutOfRangeException>(() => endpoints[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => endpoints[-1]);
    }
}
