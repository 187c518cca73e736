using TorchSharp;

namespace DeepSeekOperator.Moe.Tests;

public class TorchSharpLoadsTests
{
    [Fact]
    public void MatMul_OfRandomMatrices_MatchesPlainLoop()
    {
        torch.manual_seed(20261123);
        using var a = torch.randn(37, 53, dtype: torch.float32);
        using var b = torch.randn(53, 29, dtype: torch.float32);
        using var product = torch.matmul(a, b);

        var left = a.data<float>().ToArray();
        var right = b.data<float>().ToArray();
        var actual = product.data<float>().ToArray();
        Assert.Equal(new long[] { 37, 29 }, product.shape);
        for (var i = 0; i < 37; i++)
        {
            for (var j = 0; j < 29; j++)
            {
                double expected = 0;
                for (var k = 0; k < 53; k++)
                {
                    expected += (double)left[(i * 53) + k] * right[(k * 29) + j];
                }

                Assert.True(Math.Abs(expected - actual[(i * 29) + j]) <= 1e-4 * Math.Max(1, Math.Abs(expected)),
                    $"[{i},{j}]: torch {actual[(i * 29) + j]}, loop {expected}");
            }
        }
    }

    [Fact]
    public void Device_Cpu_IsCpu() => Assert.Equal(DeviceType.CPU, TorchRuntime.Device("cpu").type);

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    public void Device_UnknownName_NamesTheDevice(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => TorchRuntime.Device(name));
        Assert.Contains($"\"{name}\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NativeLibrary_InBuildOutput_IsPatchedCopyAndPackageCacheIsUntouched()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cached = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(output), $"{output} is missing");
        Assert.True(File.Exists(cached), $"{cached} is missing");

        var patched = File.ReadAllBytes(output);
        var original = File.ReadAllBytes(cached);
        Assert.Equal(original.Length, patched.Length);
        var differences = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        var systemHasVersion = SystemLibStdCxxHas("GLIBCXX_3.4.32");

        // Where the system lacks the version, exactly one byte differs: the vna_flags of the GLIBCXX_3.4.32 entry, now VER_FLG_WEAK.
        Assert.Equal(systemHasVersion ? 0 : 1, differences.Count);
        if (!systemHasVersion)
        {
            Assert.Equal(0, original[differences[0]] & 2);
            Assert.Equal(2, patched[differences[0]] & 2);
        }
    }

    private static bool SystemLibStdCxxHas(string version)
    {
        var library = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6" }
            .FirstOrDefault(File.Exists);
        return library is not null && System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(library)).Contains(version + "\0", StringComparison.Ordinal);
    }
}
