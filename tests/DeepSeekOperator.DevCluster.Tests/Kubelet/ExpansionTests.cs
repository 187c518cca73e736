using DeepSeekOperator.DevCluster.Internal.Kubelet;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

public sealed class ExpansionTests
{
    [Theory]
    [InlineData("$(A)-$(B)", "a-b")]
    [InlineData("$$(A)", "$(A)")]
    [InlineData("$(MISSING) stays", "$(MISSING) stays")]
    [InlineData("unclosed $(A", "unclosed $(A")]
    [InlineData("lone $ and $x", "lone $ and $x")]
    [InlineData("trailing $", "trailing $")]
    public void Expand_FollowsKubernetesExpansionRules(string input, string expected)
    {
        var values = new Dictionary<string, string> { ["A"] = "a", ["B"] = "b" };

        Assert.Equal(expected, Expansion.Expand(input, values.GetValueOrDefault));
    }

    [Fact]
    public void Rewrite_MapsPathsUnderTheDeepestMount_AlsoAfterAnEqualsSign()
    {
        var mounts = new ContainerMounts([("/models", "/host/models"), ("/models/cache/", "/host/cache"), ("/data", "/host/data")]);

        Assert.Equal("/host/models/x", mounts.Rewrite("/models/x"));
        Assert.Equal("/host/cache/y", mounts.Rewrite("/models/cache/y"));
        Assert.Equal("--weights=/host/data/w.safetensors", mounts.Rewrite("--weights=/data/w.safetensors"));
        Assert.Equal("/host/data", mounts.Rewrite("/data"));
        Assert.Equal("/database", mounts.Rewrite("/database"));
        Assert.Equal("serve", mounts.Rewrite("serve"));
    }
}
