using System.Runtime.Intrinsics.X86;
using DeepSeekOperator.Moe.Internal;
using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Tests;

public class PackedWeightTests
{
    [Theory]
    [InlineData(1, 37, 64)]
    [InlineData(3, 64, 32)]
    [InlineData(4, 16, 96)]
    [InlineData(5, 100, 32)]
    [InlineData(12, 64, 64)]
    [InlineData(13, 48, 32)]
    [InlineData(29, 130, 160)]
    public void Multiply_EqualsLibtorchLinear_ForAnyRowCountAndWidth(int rows, int inputs, int outputs)
    {
        using var weight = randn(outputs, inputs, generator: new TorchSharp.torch.Generator((ulong)rows));
        using var x = randn(rows, inputs, generator: new TorchSharp.torch.Generator((ulong)rows + 100));
        using var expected = nn.functional.linear(x, weight);
        if (!Avx512F.IsSupported)
        {
            // Without AVX-512 the packed kernel is never chosen; experts run through libtorch.
            Assert.False(PackedWeight.Fits(weight));
            return;
        }

        Assert.True(PackedWeight.Fits(weight));
        using var packed = new PackedWeight(weight);
        using var actual = packed.Multiply(x);

        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"largest difference {(actual - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void WeightsItCannotTake_AreLeftToLibtorch()
    {
        using var oddRows = zeros(33, 64);
        using var bf16 = zeros(32, 64, ScalarType.BFloat16);

        Assert.False(PackedWeight.Fits(oddRows));
        Assert.False(PackedWeight.Fits(bf16));
    }
}
