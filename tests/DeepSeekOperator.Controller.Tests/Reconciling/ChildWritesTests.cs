using DeepSeekOperator.Controller.Reconciling.Internal;

namespace DeepSeekOperator.Controller.Tests.Reconciling;

public sealed class ChildWritesTests
{
    [Fact]
    public void NothingWritten_NoMessages()
    {
        var writes = new ChildWrites();

        Assert.Null(writes.CreatedMessage());
        Assert.Null(writes.UpdatedMessage());
    }

    [Fact]
    public void ManyChildrenOfAKind_FirstFiveNamedThenCounted_KindsInTheOrderWritten()
    {
        var writes = new ChildWrites();
        for (var shard = 0; shard < 32; shard++)
        {
            writes.Created("Deployment", $"v3-shard-{shard}");
            writes.Created("Service", $"v3-shard-{shard}");
        }

        writes.Created("Deployment", "v3-router");
        writes.Updated("ConfigMap", "v3-config");

        Assert.Equal(
            "Created Deployment v3-shard-0, v3-shard-1, v3-shard-2, v3-shard-3, v3-shard-4 and 28 more; Service v3-shard-0, v3-shard-1, v3-shard-2, v3-shard-3, v3-shard-4 and 27 more",
            writes.CreatedMessage());
        Assert.Equal("Updated ConfigMap v3-config", writes.UpdatedMessage());
    }
}
