using System.Text.Json;
using DeepSeekOperator.Moe.Safetensors;
using TorchSharp;
using static DeepSeekOperator.Moe.Tests.Safetensors.SafetensorsTestFiles;

namespace DeepSeekOperator.Moe.Tests.Safetensors;

/// <summary>What the writer writes, the reader reads back unchanged: one file, a sharded directory, or part of either.</summary>
public sealed class RoundTripTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly List<torch.Tensor> _tensors = [];

    public RoundTripTests() => torch.manual_seed(20261123);

    public void Dispose()
    {
        _directory.Dispose();
        foreach (var tensor in _tensors)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void Write_F32Bf16F16_LoadsBackSameValuesShapesAndMetadata()
    {
        using var weight = torch.randn(3, 5);
        using var embedding = torch.randn(7, 4).to(torch.ScalarType.BFloat16);
        using var norm = torch.randn(2, 3, 2).to(torch.ScalarType.Float16);
        using var scalar = torch.tensor(2.5f);
        var path = _directory.File("model.safetensors");
        Dictionary<string, torch.Tensor> tensors = new()
        {
            ["model.layers.0.self_attn.o_proj.weight"] = weight,
            ["model.embed_tokens.weight"] = embedding,
            ["model.norm.weight"] = norm,
            ["scalar"] = scalar,
        };

        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" });

        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal(new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" }, file.Metadata);
            var byName = file.Tensors.ToDictionary(entry => entry.Name);
            Assert.Equal("F32 [3, 5]", Describe(byName["model.layers.0.self_attn.o_proj.weight"]));
            Assert.Equal("BF16 [7, 4]", Describe(byName["model.embed_tokens.weight"]));
            Assert.Equal("F16 [2, 3, 2]", Describe(byName["model.norm.weight"]));
            Assert.Empty(byName["scalar"].Shape);
            Assert.True(file.Tensors.Zip(file.Tensors.Skip(1)).All(pair => pair.First.DataOffset + pair.First.ByteLength == pair.Second.DataOffset));
            Assert.All(file.Tensors, entry => Assert.Equal(0, entry.DataOffset % entry.Dtype.ElementSize()));
        }

        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);
        foreach (var (name, original) in tensors)
        {
            using var loaded = checkpoint.Load(name, original.dtype, torch.CPU);
            Assert.Equal(original.dtype, loaded.dtype);
            Assert.Equal(original.shape, loaded.shape);
            Assert.True(Identical(original, loaded), name);
        }
    }

    [Fact]
    public void Load_Bf16AndF16AsFloat32_IsExact()
    {
        using var source = torch.randn(64, 33) * 1000;
        using var bf16 = source.to(torch.ScalarType.BFloat16);
        using var f16 = source.to(torch.ScalarType.Float16);
        SafetensorsWriter.Write(_directory.File("model.safetensors"), [new("b", bf16), new KeyValuePair<string, torch.Tensor>("h", f16)]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        using var b = checkpoint.Load("b", torch.ScalarType.Float32, torch.CPU);
        using var h = checkpoint.Load("h", torch.ScalarType.Float32, torch.CPU);
        using var bf16ToF32 = bf16.to(torch.ScalarType.Float32);
        using var f16ToF32 = f16.to(torch.ScalarType.Float32);

        Assert.Equal(torch.ScalarType.Float32, b.dtype);
        Assert.Equal(bf16ToF32.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.Equal(f16ToF32.data<float>().ToArray(), h.data<float>().ToArray());
    }

    [Fact]
    public void Load_Float32AsBFloat16_RoundsAsTorchDoes()
    {
        using var source = torch.randn(16, 16);
        SafetensorsWriter.Write(_directory.File("model.safetensors"), [new KeyValuePair<string, torch.Tensor>("w", source)]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        using var loaded = checkpoint.Load("w", torch.ScalarType.BFloat16, torch.CPU);
        using var expected = source.to(torch.ScalarType.BFloat16);

        Assert.Equal(torch.ScalarType.BFloat16, loaded.dtype);
        Assert.True(Identical(expected, loaded));
    }

    [Fact]
    public void Write_NonContiguousTensor_IsWrittenRowMajor()
    {
        using var source = torch.arange(12, dtype: torch.ScalarType.Float32).reshape(3, 4);
        using var transposed = source.t();
        SafetensorsWriter.Write(_directory.File("model.safetensors"), [new KeyValuePair<string, torch.Tensor>("t", transposed)]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        using var loaded = checkpoint.Load("t", torch.ScalarType.Float32, torch.CPU);

        Assert.Equal([4L, 3], loaded.shape);
        Assert.Equal([0f, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], loaded.data<float>().ToArray());
    }

    [Fact]
    public void Write_SameTensorsInAnyOrder_GivesIdenticalBytesWithAlignedData()
    {
        RawTensor[] tensors =
        [
            new("odd.bf16", SafetensorsDtype.BF16, [3], new byte[6]),
            F32("b.f32", [1], 1),
            new("a.u8", SafetensorsDtype.U8, [5], new byte[] { 1, 2, 3, 4, 5 }),
            new("z.f64", SafetensorsDtype.F64, [1], BitConverter.GetBytes(1.0)),
        ];
        var first = _directory.File("first.safetensors");
        var second = _directory.File("second.safetensors");

        SafetensorsWriter.Write(first, tensors, new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        SafetensorsWriter.Write(second, tensors.Reverse(), new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.Equal(0, BitConverter.ToInt64(File.ReadAllBytes(first), 0) % 8);
        using var file = SafetensorsFile.Open(first);
        Assert.Equal(["z.f64", "b.f32", "odd.bf16", "a.u8"], file.Tensors.Select(entry => entry.Name));
        Assert.All(file.Tensors, entry => Assert.Equal(0, entry.DataOffset % entry.Dtype.ElementSize()));
        Assert.False(File.Exists(first + ".partial"));
    }

    [Fact]
    public void WriteCheckpoint_ThreeShards_LoadsTheSameTensorsAsOneFile()
    {
        var tensors = Layers(4);
        var single = Path.Combine(_directory.Path, "single");
        var sharded = Path.Combine(_directory.Path, "sharded");

        SafetensorsWriter.WriteCheckpoint(single, tensors, 1);
        SafetensorsWriter.WriteCheckpoint(sharded, tensors, 3, new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal(["model.safetensors"], Directory.GetFiles(single).Select(Path.GetFileName));
        Assert.Equal(
            ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json"],
            Directory.GetFiles(sharded).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var one = SafetensorsCheckpoint.Open(single);
        using var three = SafetensorsCheckpoint.Open(sharded);
        Assert.Equal(3, three.Files.Count);
        Assert.Equal(one.Tensors.Select(entry => entry.Name).Order(StringComparer.Ordinal), three.Tensors.Select(entry => entry.Name).Order(StringComparer.Ordinal));
        foreach (var (name, original) in tensors)
        {
            using var fromOne = one.Load(name, torch.ScalarType.Float32, torch.CPU);
            using var fromThree = three.Load(name, torch.ScalarType.Float32, torch.CPU);
            Assert.True(Identical(original, fromOne), name);
            Assert.True(Identical(original, fromThree), name);
        }

        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(sharded, "model.safetensors.index.json")));
        var total = tensors.Sum(pair => pair.Value.numel() * 4);
        Assert.Equal(total, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var weightMap = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(property => property.Name, property => property.Value.GetString());
        Assert.Equal(tensors.Count, weightMap.Count);
        Assert.All(three.Tensors, entry => Assert.Equal(Path.GetFileName(entry.File), weightMap[entry.Name]));
        var shardBytes = three.Files.Select(file => three.Tensors.Where(entry => entry.File == file).Sum(entry => entry.ByteLength)).ToList();
        Assert.True(shardBytes.Max() <= (total / 3) + tensors.Max(pair => pair.Value.numel() * 4), string.Join(", ", shardBytes));
        Assert.All(three.Files, file =>
        {
            using var shard = SafetensorsFile.Open(file);
            Assert.Equal("pt", shard.Metadata["format"]);
        });
    }

    [Fact]
    public void WriteCheckpoint_OverTheOtherLayout_LeavesOnlyWhatWasWritten()
    {
        var tensors = Layers(2);
        SafetensorsWriter.WriteCheckpoint(_directory.Path, tensors, 1);
        SafetensorsWriter.WriteCheckpoint(_directory.Path, tensors, 2);
        Assert.False(File.Exists(_directory.File("model.safetensors")));
        using (var sharded = SafetensorsCheckpoint.Open(_directory.Path))
        {
            Assert.Equal(_directory.File("model.safetensors.index.json"), sharded.Source);
        }

        SafetensorsWriter.WriteCheckpoint(_directory.Path, tensors.Take(3), 1);

        Assert.False(File.Exists(_directory.File("model.safetensors.index.json")));
        using var single = SafetensorsCheckpoint.Open(_directory.Path);
        Assert.Equal(3, single.Tensors.Count);
    }

    [Theory]
    [InlineData(new long[] { 4, 4, 4, 4, 4, 4 }, 3, 8)]
    [InlineData(new long[] { 10, 1, 1, 1, 1, 10 }, 3, 10)]
    [InlineData(new long[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 3, 17)]
    [InlineData(new long[] { 100, 1, 1 }, 3, 100)]
    [InlineData(new long[] { 0, 0, 5 }, 2, 5)]
    public void Partition_IntoShards_IsContiguousNonEmptyAndAsEvenAsPossible(long[] sizes, int parts, long largest)
    {
        var runs = SafetensorsWriter.Partition(sizes, parts);

        Assert.Equal(parts, runs.Count);
        Assert.Equal(0, runs[0].Start);
        Assert.Equal(sizes.Length, runs[^1].End);
        Assert.All(runs.Zip(runs.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Start));
        Assert.All(runs, run => Assert.True(run.End > run.Start));
        Assert.Equal(largest, runs.Max(run => sizes[run.Start..run.End].Sum()));
    }

    [Fact]
    public void Load_Predicate_ReturnsOnlyMatchesInDataOrderAndReportsProgress()
    {
        var tensors = Layers(3);
        SafetensorsWriter.WriteCheckpoint(_directory.Path, tensors, 2);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);
        var progress = new ProgressRecorder();
        List<string> offered = [];

        var loaded = checkpoint.Load(name =>
        {
            offered.Add(name);
            return name.StartsWith("model.layers.1.", StringComparison.Ordinal);
        }, torch.ScalarType.BFloat16, torch.CPU, progress);

        try
        {
            var expected = tensors.Keys.Where(name => name.StartsWith("model.layers.1.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, loaded.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(checkpoint.Tensors.Select(entry => entry.Name), offered);
            Assert.Equal(checkpoint.Tensors.Select(entry => entry.Name).Where(expected.Contains), loaded.Keys);
            Assert.All(loaded, pair =>
            {
                Assert.Equal(torch.ScalarType.BFloat16, pair.Value.dtype);
                using var original = tensors[pair.Key].to(torch.ScalarType.BFloat16);
                Assert.True(Identical(original, pair.Value), pair.Key);
            });

            var bytesTotal = expected.Sum(name => checkpoint.Get(name).ByteLength);
            Assert.Equal(new LoadProgress(0, bytesTotal, 0, expected.Count, null), progress.Reports[0]);
            Assert.Equal(expected.Count + 1, progress.Reports.Count);
            Assert.All(progress.Reports.Zip(progress.Reports.Skip(1)), pair =>
            {
                Assert.True(pair.Second.BytesLoaded > pair.First.BytesLoaded);
                Assert.Equal(pair.First.TensorsLoaded + 1, pair.Second.TensorsLoaded);
            });
            Assert.All(progress.Reports, report => Assert.Equal((bytesTotal, expected.Count), (report.BytesTotal, report.TensorsTotal)));
            Assert.Equal(new LoadProgress(bytesTotal, bytesTotal, expected.Count, expected.Count, loaded.Keys.Last()), progress.Reports[^1]);
            Assert.Equal(loaded.Keys, progress.Reports.Skip(1).Select(report => report.Tensor));
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
    public void Load_CancelledPartWay_StopsBetweenTensors()
    {
        SafetensorsWriter.WriteCheckpoint(_directory.Path, Layers(2), 1);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);
        using var cancellation = new CancellationTokenSource();
        var progress = new ProgressRecorder();
        var cancelAfterTwo = new ProgressCallback(report =>
        {
            progress.Report(report);
            if (report.TensorsLoaded == 2)
            {
                cancellation.Cancel();
            }
        });

        Assert.Throws<OperationCanceledException>(() => checkpoint.Load(_ => true, torch.ScalarType.Float32, torch.CPU, cancelAfterTwo, cancellation.Token));
        Assert.Equal(2, progress.Reports[^1].TensorsLoaded);
    }

    [Fact]
    public void Open_DirectoryWithNeitherFile_NamesTheDirectoryAndBothFileNames()
    {
        var error = AssertRejected(() => SafetensorsCheckpoint.Open(_directory.Path), Path.GetFullPath(_directory.Path), null, "the directory holds neither");

        Assert.Contains("model.safetensors nor model.safetensors.index.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_PathOfOneFile_OpensThatFile()
    {
        var path = _directory.File("weights.safetensors");
        SafetensorsWriter.Write(path, [F32("w", [2], 1, 2)]);

        using var checkpoint = SafetensorsCheckpoint.Open(path);

        Assert.Equal(_directory.Path, checkpoint.Directory);
        Assert.Equal(path, checkpoint.Source);
        Assert.True(checkpoint.Contains("w"));
        Assert.False(checkpoint.Contains("v"));
        Assert.Equal(path, checkpoint.Get("w").File);
    }

    [Fact]
    public void Get_MissingTensor_NamesTheCheckpointAndTheTensor()
    {
        var path = _directory.File("model.safetensors");
        SafetensorsWriter.Write(path, [F32("w", [2], 1, 2)]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        AssertRejected(() => checkpoint.Get("model.norm.weight"), path, "model.norm.weight", $"the checkpoint in {_directory.Path} has no tensor 'model.norm.weight'");
        AssertRejected(() => checkpoint.Load("model.norm.weight", torch.ScalarType.Float32, torch.CPU), path, "model.norm.weight", "has no tensor 'model.norm.weight'");
    }

    [Fact]
    public void Load_UnsignedWideIntegers_AreRefusedForLackOfATorchType()
    {
        var path = _directory.File("model.safetensors");
        SafetensorsWriter.Write(path, [new RawTensor("counts", SafetensorsDtype.U32, [2], new byte[8]), new RawTensor("bytes", SafetensorsDtype.U8, [2], new byte[] { 7, 9 })]);
        using var checkpoint = SafetensorsCheckpoint.Open(_directory.Path);

        using var bytes = checkpoint.Load("bytes", torch.ScalarType.Float32, torch.CPU);

        Assert.Equal([7f, 9f], bytes.data<float>().ToArray());
        AssertRejected(() => checkpoint.Load("counts", torch.ScalarType.Int64, torch.CPU), path, "counts", "U32 has no torch element type to load it as");
    }

    [Fact]
    public void GetBytes_AfterDispose_Throws()
    {
        var path = _directory.File("model.safetensors");
        SafetensorsWriter.Write(path, [F32("w", [2], 1, 2)]);
        var file = SafetensorsFile.Open(path);
        var entry = file.Tensors[0];
        Assert.Equal(BitConverter.GetBytes(2f), file.GetBytes(entry, 4, 4).ToArray());

        file.Dispose();

        Assert.Throws<ObjectDisposedException>(() => file.GetBytes(entry).Length);
    }

    [Fact]
    public void Write_InvalidTensors_AreRefusedNamingTheTensor()
    {
        var path = _directory.File("model.safetensors");
        using var complex = torch.zeros(2, dtype: torch.ScalarType.ComplexFloat32);

        Assert.Contains("tensor 'w' has 7 bytes but F32 [2] needs 8", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new RawTensor("w", SafetensorsDtype.F32, [2], new byte[7])])).Message, StringComparison.Ordinal);
        Assert.Contains("tensor 'w' is given twice", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [F32("w", [1], 1), F32("w", [1], 2)])).Message, StringComparison.Ordinal);
        Assert.Contains("'__metadata__' is the header's metadata key", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [F32("__metadata__", [1], 1)])).Message, StringComparison.Ordinal);
        Assert.Contains("tensor 'c' is ComplexFloat32", Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new KeyValuePair<string, torch.Tensor>("c", complex)])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => SafetensorsWriter.WriteCheckpoint(_directory.Path, [F32("w", [1], 1)], 2));
        Assert.False(File.Exists(path));
    }

    private static string Describe(TensorEntry entry) => $"{entry.Dtype} [{string.Join(", ", entry.Shape)}]";

    /// <summary>A few layers of float32 weights of different sizes, as a DeepSeek checkpoint names them.</summary>
    private Dictionary<string, torch.Tensor> Layers(int count)
    {
        Dictionary<string, torch.Tensor> tensors = new(StringComparer.Ordinal);
        for (var layer = 0; layer < count; layer++)
        {
            tensors[$"model.layers.{layer}.input_layernorm.weight"] = torch.randn(16);
            tensors[$"model.layers.{layer}.self_attn.o_proj.weight"] = torch.randn(16, 24);
            tensors[$"model.layers.{layer}.mlp.gate_proj.weight"] = torch.randn(32, 16);
        }

        _tensors.AddRange(tensors.Values);
        return tensors;
    }

    private sealed class ProgressCallback(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }
}
