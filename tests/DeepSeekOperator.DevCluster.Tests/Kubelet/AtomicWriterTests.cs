using System.Runtime.Versioning;
using System.Text;
using DeepSeekOperator.DevCluster.Internal.Kubelet;

namespace DeepSeekOperator.DevCluster.Tests.Kubelet;

[SupportedOSPlatform("linux")]
public sealed class AtomicWriterTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("dsop-atomic-").FullName;

    [Fact]
    public void Write_SwapsTheDataLink_AndKeepsOnlyTheCurrentFiles()
    {
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        Assert.True(AtomicWriter.Write(directory, new Dictionary<string, FileProjection>
        {
            ["a"] = new(Encoding.UTF8.GetBytes("one"), mode),
            ["dir/b"] = new(Encoding.UTF8.GetBytes("two"), UnixFileMode.UserRead),
        }));
        var first = new FileInfo(Path.Combine(directory, "..data")).LinkTarget;

        Assert.False(AtomicWriter.Write(directory, new Dictionary<string, FileProjection> { ["a"] = new(Encoding.UTF8.GetBytes("one"), mode), ["dir/b"] = new(Encoding.UTF8.GetBytes("two"), UnixFileMode.UserRead) }));
        Assert.True(AtomicWriter.Write(directory, new Dictionary<string, FileProjection> { ["a"] = new(Encoding.UTF8.GetBytes("three"), mode) }));

        Assert.Equal("three", File.ReadAllText(Path.Combine(directory, "a")));
        Assert.False(Path.Exists(Path.Combine(directory, "dir")));
        Assert.NotEqual(first, new FileInfo(Path.Combine(directory, "..data")).LinkTarget);
        Assert.False(Directory.Exists(Path.Combine(directory, first!)));
        Assert.Equal(["..data", "a"], Directory.GetFileSystemEntries(directory).Select(Path.GetFileName).Where(n => !n!.StartsWith("..2", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
