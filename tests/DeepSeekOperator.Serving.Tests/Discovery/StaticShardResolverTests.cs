using DeepSeekOperator.Serving.Discovery;

namespace DeepSeekOperator.Serving.Tests.Discovery;

public class StaticShardResolverTests
{
    [Fact]
    public void Parse_ShardsInAnyOrder_EachShardHasItsReplicasSortedAndTheSetIsReady()
    {
        var resolver = StaticShardResolver.Parse(["1=127.0.0.4:9001", "0=127.0.0.3:9000,127.0.0.2:9000,127.0.0.3:9000"]);

        Assert.Equal(2, resolver.Shards);
        Assert.Equal(["127.0.0.2:9000", "127.0.0.3:9000"], resolver.Current[0].Select(e => e.ToString()));
        Assert.Equal([new ShardEndpoint("127.0.0.4", 9001)], resolver.Current[1]);
        Assert.True(resolver.Current.IsReady);
    }

    [Fact]
    public void Parse_BracketedIpv6Address_KeepsTheAddressWithoutBrackets()
    {
        var endpoint = Assert.Single(StaticShardResolver.Parse(["0=[::1]:9000"]).Current[0]);

        Assert.Equal(("::1", 9000), (endpoint.Host, endpoint.Port));
        Assert.Equal("[::1]:9000", endpoint.ToString());
        Assert.Equal(new Uri("http://[::1]:9000"), endpoint.Address);
    }

    public static TheoryData<string[], string> Malformed() => new()
    {
        { ["127.0.0.2:9000"], "--shard '127.0.0.2:9000' is not shard=host:port[,host:port…]" },
        { ["a=127.0.0.2:9000"], "--shard 'a=127.0.0.2:9000': shard 'a' is not a non-negative number" },
        { ["-1=127.0.0.2:9000"], "--shard '-1=127.0.0.2:9000': shard '-1' is not a non-negative number" },
        { ["0="], "--shard '0=': shard 0 lists no endpoints" },
        { ["0=127.0.0.2"], "--shard '0=127.0.0.2': endpoint '127.0.0.2' is not host:port" },
        { ["0=127.0.0.2:9000,"], "--shard '0=127.0.0.2:9000,': endpoint '' is not host:port" },
        { ["0=127.0.0.2:http"], "--shard '0=127.0.0.2:http': endpoint '127.0.0.2:http' has port 'http', expected a number" },
        { ["0=127.0.0.2:70000"], "--shard '0=127.0.0.2:70000': endpoint '127.0.0.2:70000': port must be in [1, 65535], got 70000" },
        { ["0=127.0.0.2:0"], "--shard '0=127.0.0.2:0': endpoint '127.0.0.2:0': port must be in [1, 65535], got 0" },
        { ["0=bad host:9000"], "--shard '0=bad host:9000': endpoint 'bad host:9000': host 'bad host' is not a host name or IP address" },
        { ["0=::1:9000"], "--shard '0=::1:9000': endpoint '::1:9000' has an IPv6 address without brackets, write [address]:port" },
        { ["0=a:1", "0=b:1"], "--shard '0=b:1': shard 0 is given more than once" },
        { ["2=a:1"], "--shard: shards 0, 1 not given (shards 0 to 2 are needed)" },
        { ["0=a:1", "2=a:1"], "--shard: shard 1 not given (shards 0 to 2 are needed)" },
        { [], "--shard: no shards given" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Parse_MalformedValue_FailsWithAMessageNamingTheValue(string[] values, string message)
    {
        var error = Assert.Throws<FormatException>(() => StaticShardResolver.Parse(values));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task WatchAsync_StartsWithTheGivenEndpoints()
    {
        var resolver = StaticShardResolver.Parse(["0=a:1"]);
        await resolver.RunAsync(CancellationToken.None);

        var first = await Eventually.MatchAsync(resolver.WatchAsync(CancellationToken.None), _ => true);

        Assert.Same(resolver.Current, first);
    }
}
