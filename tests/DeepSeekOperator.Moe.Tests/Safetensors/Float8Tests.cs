using DeepSeekOperator.Moe.Safetensors;
using TorchSharp;
using static DeepSeekOperator.Moe.Tests.Safetensors.SafetensorsTestFiles;

namespace DeepSeekOperator.Moe.Tests.Safetensors;

/// <summary>FP8 (e4m3fn) weights with their 128×128 block scales, as DeepSeek-V3 checkpoints store them, load as the hand-computed values.</summary>
public sealed class Float8Tests : IDisposable
{
    private const string Weight = "model.layers.3.mlp.experts.7.down_proj.weight";
    private const string Scale = Weight + "_scale_inv";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Load_E4M3Codes_DecodeToTheirValues()
    {
        // sign.exponent(4, bias 7).mantissa(3): subnormals below exponent 1, no infinities, S.1111.111 is NaN.
        (byte Code, float Value)[] cases =
        [
            (0x00, 0f),
            (0x80, -0f),
            (0x01, 1f / 512),          // smallest subnormal, 2^-9
            (0x07, 7f / 512),          // largest subnormal, 0.875 × 2^-6
            (0x08, 1f / 64),           // smallest normal, 2^-6
            (0x38, 1f),                // exponent 7 = bias
            (0x3C, 1.5f),
            (0x40, 2f),
            (0xB8, -1f),
            (0x77, 240f),              // 1.875 × 2^7
            (0x78, 256f),              // exponent 15 is still finite
            (0x7E, 448f),              // largest finite, 1.75 × 2^8
            (0xFE, -448f),
            (0x7F, float.NaN),
            (0xFF, float.NaN),
        ];
        WriteWeight([1, cases.Length], [.. cases.Select(item => item.Code)], [1f]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        using var loaded = checkpoint.Load(Weight, torch.ScalarType.Float32, torch.CPU);

        Assert.Equal([1L, cases.Length], loaded.shape);
        var values = loaded.data<float>().ToArray();
        for (var i = 0; i < cases.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(cases[i].Value) == BitConverter.SingleToInt32Bits(values[i]) || (float.IsNaN(cases[i].Value) && float.IsNaN(values[i])),
                $"0x{cases[i].Code:X2}: expected {cases[i].Value}, loaded {values[i]}");
        }
    }

    [Fact]
    public void Load_E5M2Codes_DecodeToTheirValues()
    {
        // sign.exponent(5, bias 15).mantissa(2), with infinities and NaNs as in IEEE 754.
        byte[] codes = [0x01, 0x04, 0x3C, 0x3E, 0xBC, 0x7B, 0x7C, 0xFC, 0x7D];
        float[] expected = [1f / 65536, 1f / 16384, 1f, 1.5f, -1f, 57344f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        SafetensorsWriter.Write(_directory.File("model.safetensors"),
        [
            new RawTensor(Weight, SafetensorsDtype.F8_E5M2, [1, codes.Length], codes),
            F32(Scale, [1, 1], 1f),
        ]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        using var loaded = checkpoint.Load(Weight, torch.ScalarType.Float32, torch.CPU);

        Assert.Equal(expected, loaded.data<float>().ToArray());
    }

    [Theory]
    [InlineData(torch.ScalarType.Float32)]
    [InlineData(torch.ScalarType.BFloat16)]
    public void Load_BlockScaledWeightWithSmallerEdgeBlocks_MultipliesEachBlockByItsScale(torch.ScalarType dtype)
    {
        // [130, 257]: block rows of 128 and 2, block columns of 128, 128 and 1; scales [2, 3].
        const int rows = 130;
        const int columns = 257;
        byte[] pattern = [0x38, 0x40, 0xB8, 0x30];            // 1, 2, -1, 0.5
        float[] decoded = [1f, 2f, -1f, 0.5f];
        float[] scales = [0.25f, 3f, 10f, -2f, 0.125f, 7f];   // [[0.25, 3, 10], [-2, 0.125, 7]]
        var codes = new byte[rows * columns];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                codes[(i * columns) + j] = pattern[(i + (2 * j)) % 4];
            }
        }

        WriteWeight([rows, columns], codes, scales);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        using var loaded = checkpoint.Load(Weight, dtype, torch.CPU);
        using var asFloat = loaded.to(torch.ScalarType.Float32);

        Assert.Equal(dtype, loaded.dtype);
        Assert.Equal([(long)rows, columns], loaded.shape);
        var values = asFloat.data<float>().ToArray();
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                var expected = decoded[(i + (2 * j)) % 4] * scales[((i / 128) * 3) + (j / 128)];
                if (expected != values[(i * columns) + j])
                {
                    Assert.Fail($"[{i}, {j}]: expected {expected}, loaded {values[(i * columns) + j]}");
                }
            }
        }

        // Corners of the edge blocks, spelled out: code (i + 2j) % 4 of [1, 2, -1, 0.5] times scale [i / 128, j / 128].
        Assert.Equal(0.25f, values[0]);                         // [0, 0]: 1 × 0.25
        Assert.Equal(1.5f, values[(127 * columns) + 128]);      // [127, 128]: 0.5 × 3
        Assert.Equal(10f, values[256]);                         // [0, 256]: 1 × 10, the one-column block
        Assert.Equal(-2f, values[128 * columns]);               // [128, 0]: 1 × -2, the two-row block
        Assert.Equal(-1f, values[(129 * columns) + 127]);       // [129, 127]: 0.5 × -2
        Assert.Equal(14f, values[(129 * columns) + 256]);       // [129, 256]: 2 × 7, the 2×1 corner block
    }

    [Fact]
    public void Dequantize_InBandsOfOneBlockRow_MatchesTheBlockArithmetic()
    {
        // 300 rows in bands of 128: the second and third bands must pick the second and third rows of scales.
        const int rows = 300;
        const int columns = 130;
        var codes = new byte[rows * columns];
        for (var i = 0; i < codes.Length; i++)
        {
            codes[i] = (byte)(0x30 + (i % 16));                // 0x30…0x37: 0.5 … 0.9375, 0x38…0x3F: 1 … 1.875
        }

        float[] scales = [1f, 2f, 4f, 8f, 16f, 32f];           // [3, 2]
        using var codeTensor = torch.tensor(codes, [rows, columns]);
        using var scaleTensor = torch.tensor(scales, [3, 2]);

        using var banded = Float8.Dequantize(codeTensor, scaleTensor, SafetensorsDtype.F8_E4M3, torch.ScalarType.Float32, bandElements: 1);

        var values = banded.data<float>().ToArray();
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                var code = (i * columns) + j;
                var expected = (1f + ((code % 8) / 8f)) * (code % 16 < 8 ? 0.5f : 1f) * scales[((i / 128) * 2) + (j / 128)];
                if (expected != values[code])
                {
                    Assert.Fail($"[{i}, {j}]: expected {expected}, dequantised {values[code]}");
                }
            }
        }
    }

    [Fact]
    public void Load_Float8WeightWithoutItsScale_NamesBothTensors()
    {
        var path = _directory.File("model.safetensors");
        SafetensorsWriter.Write(path, [new RawTensor(Weight, SafetensorsDtype.F8_E4M3, [2, 2], new byte[] { 0x38, 0x38, 0x38, 0x38 })]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        AssertRejected(() => checkpoint.Load(Weight, torch.ScalarType.Float32, torch.CPU), path, Weight,
            $"the tensor is F8_E4M3 but the checkpoint has no scale tensor '{Scale}' to dequantise it with");
        AssertRejected(() => checkpoint.Load(_ => true, torch.ScalarType.Float32, torch.CPU), path, Weight, $"'{Scale}'");
    }

    [Fact]
    public void Load_ScaleOfTheWrongShape_NamesTheScaleAndTheShapeItNeeds()
    {
        WriteWeight([130, 257], new byte[130 * 257], [1f, 1f, 1f, 1f], scaleShape: [2, 2]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        AssertRejected(() => checkpoint.Load(Weight, torch.ScalarType.Float32, torch.CPU), _directory.File("model.safetensors"), Scale,
            $"the scales of F8_E4M3 [130, 257] weight '{Weight}' must be F32 [2, 3] (one per 128×128 block), not F32 [2, 2]");
    }

    [Fact]
    public void Load_Float8WeightThatIsNot2D_IsRefused()
    {
        var path = _directory.File("model.safetensors");
        SafetensorsWriter.Write(path, [new RawTensor(Weight, SafetensorsDtype.F8_E4M3, [2], new byte[2]), F32(Scale, [1, 1], 1f)]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        AssertRejected(() => checkpoint.Load(Weight, torch.ScalarType.Float32, torch.CPU), path, Weight, "the tensor is F8_E4M3 [2]; only 2-D F8_E4M3 weights can be dequantised");
    }

    [Fact]
    public void Load_Predicate_ConsumesScalesWithTheirWeightsAndCountsTheirBytes()
    {
        var path = _directory.File("model.safetensors");
        SafetensorsWriter.Write(path,
        [
            new RawTensor(Weight, SafetensorsDtype.F8_E4M3, [2, 3], new byte[] { 0x38, 0x40, 0x30, 0xB8, 0x00, 0x7E }),
            F32(Scale, [1, 1], 4f),
            F32("model.norm.weight", [3], 1, 2, 3),
        ]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);
        var progress = new ProgressRecorder();
        List<string> offered = [];

        var loaded = checkpoint.Load(name =>
        {
            offered.Add(name);
            return true;
        }, torch.ScalarType.Float32, torch.CPU, progress);

        try
        {
            Assert.Equal([Weight, "model.norm.weight"], loaded.Keys.Order(StringComparer.Ordinal));
            Assert.DoesNotContain(Scale, offered);
            Assert.Equal([4f, 8f, 2f, -4f, 0f, 1792f], loaded[Weight].data<float>().ToArray());
            Assert.Equal(new LoadProgress(6 + 4 + 12, 6 + 4 + 12, 2, 2, loaded.Keys.Last()), progress.Reports[^1]);
        }
        finally
        {
            foreach (var tensor in loaded.Values)
            {
                tensor.Dispose();
            }
        }
    }

    [Fact]
    public void Load_ScaleByItsOwnName_LoadsTheScales()
    {
        WriteWeight([1, 1], [0x38], [0.5f]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        using var scale = checkpoint.Load(Scale, torch.ScalarType.Float32, torch.CPU);

        Assert.Equal([0.5f], scale.data<float>().ToArray());
    }

    private void WriteWeight(long[] shape, byte[] codes, float[] scales, long[]? scaleShape = null)
    {
        scaleShape ??= [(shape[0] + 127) / 128, (shape[1] + 127) / 128];
        SafetensorsWriter.Write(_directory.File("model.safetensors"),
        [
            new RawTensor(Weight, SafetensorsDtype.F8_E4M3, shape, codes),
            F32(Scale, scaleShape, scales),
        ]);
    }
}
