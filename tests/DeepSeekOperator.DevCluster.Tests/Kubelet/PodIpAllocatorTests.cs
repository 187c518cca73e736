using DeepSeekOperator.DevCluster.Internal.Kubelet;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

public sealed class PodIpAllocatorTests
{
    [Fact]
    public void Allocate_CountsUpFrom127002_SkippingBroadcastAndNetworkAddresses()
    {
        var ips = new PodIpAllocator();

        var given = Enumerable.Range(0, 254).Select(_ => ips.Allocate(null)).ToList();

        Assert.Equal("127.0.0.2", given[0]);
        Assert.Equal("127.0.0.254", given[252]);
        Assert.Equal("127.0.1.1", given[253]);
        Assert.Equal(given.Count, given.Distinct().Count());
    }

    [Fact]
    public void Allocate_ReusesAReleasedAddressOnlyAfterRelease_AndHonoursAFreePreferredOne()
    {
        var ips = new PodIpAllocator();
        var first = ips.Allocate(null);

        Assert.NotEqual(first, ips.Allocate(first));
        ips.Release(first);
        Assert.Equal(first, ips.Allocate(first));
        Assert.Equal("127.0.0.9", ips.Allocate("127.0.0.9"));
        Assert.NotEqual("127.0.0.1", ips.Allocate("127.0.0.1"));
    }

    [Fact]
    public void Allocate_NeverGivesAnAddressOfTheServiceRange_127_96_0_0_16()
    {
        var ips = new PodIpAllocator();

        Assert.Equal("127.0.0.2", ips.Allocate("127.96.0.10"));
        Assert.Equal("127.95.255.254", ips.Allocate("127.95.255.254"));
        Assert.Throws<ArgumentException>(() => new PodIpAllocator("127.96.0.2"));
    }
}
