using DeepSeekOperator.Moe.Safetensors;
using static DeepSeekOperator.Moe.Tests.Safetensors.SafetensorsTestFiles;

namespace DeepSeekOperator.Moe.Tests.Safetensors;

/// <summary>Every rule of the safetensors format, broken one at a time: each file is rejected with the file, the tensor and the fault named.</summary>
public sealed class MalformedFileTests : IDisposable
{
    private const string Gate = "model.layers.0.mlp.gate.weight";
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Open_WellFormedRawFile_ListsTensorsInDataOrder()
    {
        // The builder itself makes files the reader accepts, so the rejections below are the broken rule's doing.
        var path = WriteRaw(_directory.File("model.safetensors"),
            """{"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"__metadata__":{"format":"pt"},"a":{"dtype":"I16","shape":[2,2],"data_offsets":[0,8]}}""", 16);

        using var file = SafetensorsFile.Open(path);

        Assert.Equal(["a", "b"], file.Tensors.Select(entry => entry.Name));
        Assert.Equal("pt", file.Metadata["format"]);
        var b = file.Tensors[1];
        Assert.Equal(SafetensorsDtype.F32, b.Dtype);
        Assert.Equal([2L], b.Shape);
        Assert.Equal(path, b.File);
        Assert.Equal(8, b.ByteLength);
        Assert.Equal(2, b.ElementCount);
        Assert.Equal([8, 9, 10, 11, 12, 13, 14, 15], file.GetBytes(b).ToArray());
    }

    [Fact]
    public void Open_FileShorterThanTheLength_IsRejectedAsTooShort()
    {
        var path = _directory.File("model.safetensors");
        File.WriteAllBytes(path, [1, 0, 0]);

        AssertFileRejected(path, null, "the file is 3 bytes, too short to hold the 8-byte header length");
    }

    [Fact]
    public void Open_HeaderLengthLargerThanTheFile_IsRejected()
    {
        var tooLong = WriteRaw(_directory.File("long.safetensors"), "{}", 0, declaredLength: 4000);

        AssertFileRejected(tooLong, null, "the header length 4000 runs past the end of the file, which holds 2 bytes after the 8-byte length");
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)]
    public void Open_HeaderLengthOverTheFormatsBound_IsRejected(ulong declared)
    {
        var path = WriteRaw(_directory.File("model.safetensors"), "{}", 0, declaredLength: declared);

        AssertFileRejected(path, null, $"the header length {declared} exceeds the format's limit of 100000000 bytes");
    }

    [Fact]
    public void Open_TruncatedFile_NamesTheTensorWhoseDataIsCut()
    {
        var path = _directory.File("model.safetensors");
        SafetensorsWriter.Write(path, [F32("a", [2], 1, 2), F32(Gate, [2, 2], 1, 2, 3, 4)]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);

        AssertFileRejected(path, Gate, "data_offsets [8, 24] run past the end of the data buffer, which holds 19 bytes (truncated?)");
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""", "the header is not valid JSON")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],}}""", "the header is not valid JSON")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x""", "the header is not valid JSON")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}{}""", "the header is not valid JSON")]
    [InlineData("", "the header is not valid JSON: The input does not contain any JSON tokens")]
    [InlineData("""[{"a":1}]    """, "the header is not a JSON object (it starts with a list)")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} /* */""", "the header is not valid JSON")]
    [InlineData("""{"__metadata__":{"format":1}}""", "__metadata__ 'format' is the number 1, not a string")]
    [InlineData("""{"__metadata__":["pt"]}""", "__metadata__ is a list, not an object of strings")]
    [InlineData("""{"__metadata__":{"format":"pt","format":"np"}}""", "__metadata__ has the key 'format' twice")]
    [InlineData("""{"__metadata__":{},"__metadata__":{}}""", "the header has the key '__metadata__' twice")]
    public void Open_MalformedHeader_IsRejected(string header, string fragment)
    {
        var path = WriteRaw(_directory.File("model.safetensors"), header, header.Contains("data_offsets", StringComparison.Ordinal) ? 4 : 0);

        AssertFileRejected(path, null, fragment);
    }

    [Fact]
    public void Open_HeaderThatIsNotUtf8_IsRejected()
    {
        var path = _directory.File("model.safetensors");
        byte[] header = [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'{', (byte)'}', (byte)'}'];
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header]);

        AssertFileRejected(path, null, "the header is not valid UTF-8");
    }

    [Theory]
    [InlineData("""{"dtype":"F31","shape":[4],"data_offsets":[0,16]}""", "dtype \"F31\" is not one of BOOL, U8, I8")]
    [InlineData("""{"dtype":"f32","shape":[4],"data_offsets":[0,16]}""", "dtype \"f32\" is not one of")]
    [InlineData("""{"dtype":11,"shape":[4],"data_offsets":[0,16]}""", "dtype is the number 11, not a string")]
    [InlineData("""{"dtype":"F32","shape":[4],"data_offsets":[0,16],"offsets":[0,16]}""", "the entry has the key 'offsets'; an entry holds exactly dtype, shape and data_offsets")]
    [InlineData("""{"dtype":"F32","data_offsets":[0,16]}""", "the entry lacks 'shape'")]
    [InlineData("""{"shape":[4],"data_offsets":[0,16]}""", "the entry lacks 'dtype'")]
    [InlineData("""{"dtype":"F32","shape":[4]}""", "the entry lacks 'data_offsets'")]
    [InlineData("""{"dtype":"F32","dtype":"F32","shape":[4],"data_offsets":[0,16]}""", "the entry has the key 'dtype' twice")]
    [InlineData("""{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}""", "shape holds the negative number -4")]
    [InlineData("""{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}""", "shape holds the number 4.0, not a non-negative integer")]
    [InlineData("""{"dtype":"F32","shape":"4","data_offsets":[0,16]}""", "shape is the string \"4\", not a list of non-negative integers")]
    [InlineData("""{"dtype":"F32","shape":[4],"data_offsets":[0,16,16]}""", "data_offsets has 3 numbers, not 2 ([begin, end])")]
    [InlineData("""{"dtype":"F32","shape":[4],"data_offsets":[16,0]}""", "data_offsets [16, 0] end before they begin")]
    [InlineData("""{"dtype":"F32","shape":[4],"data_offsets":[0,99999999999999999999]}""", "data_offsets holds the number 99999999999999999999, not a non-negative integer")]
    [InlineData("""{"dtype":"F32","shape":[4,8],"data_offsets":[0,16]}""", "data_offsets [0, 16] hold 16 bytes but F32 [4, 8] needs 128")]
    [InlineData("""{"dtype":"BF16","shape":[4],"data_offsets":[0,16]}""", "data_offsets [0, 16] hold 16 bytes but BF16 [4] needs 8")]
    [InlineData("""{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}""", "F32 [4294967296, 4294967296] has more bytes than a 64-bit count holds")]
    [InlineData("""[0,16]""", "the entry is a list, not an object with dtype, shape and data_offsets")]
    public void Open_MalformedEntry_NamesTheTensor(string entry, string fragment)
    {
        var path = WriteRaw(_directory.File("model.safetensors"), $$$"""{"{{{Gate}}}":{{{entry}}}}""", 16);

        AssertFileRejected(path, Gate, fragment);
    }

    [Fact]
    public void Open_ByteLengthNotElementsTimesSize_SaysWhatTheShapeNeeds()
    {
        var path = WriteRaw(_directory.File("model.safetensors"), $$$"""{"{{{Gate}}}":{"dtype":"F32","shape":[4,8],"data_offsets":[0,100]}}""", 100);

        var error = Assert.Throws<CheckpointException>(() => SafetensorsFile.Open(path));

        Assert.Equal($"{path}: tensor '{Gate}': data_offsets [0, 100] hold 100 bytes but F32 [4, 8] needs 128", error.Message);
    }

    [Fact]
    public void Open_DuplicateTensorName_IsRejected()
    {
        var path = WriteRaw(_directory.File("model.safetensors"),
            $$$"""{"{{{Gate}}}":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"{{{Gate}}}":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8);

        AssertFileRejected(path, Gate, "the header names this tensor twice");
    }

    [Fact]
    public void Open_OverlappingOffsets_NameBothTensors()
    {
        var path = WriteRaw(_directory.File("model.safetensors"),
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", 24);

        AssertFileRejected(path, "b", "data_offsets [8, 24] overlap tensor 'a' at [0, 16]");
    }

    [Fact]
    public void Open_SameOffsetsTwice_IsAnOverlap()
    {
        var path = WriteRaw(_directory.File("model.safetensors"),
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}}""", 16);

        AssertFileRejected(path, "b", "data_offsets [0, 16] overlap tensor 'a' at [0, 16]");
    }

    [Fact]
    public void Open_HoleBetweenTensors_NamesTheTensorAfterIt()
    {
        var path = WriteRaw(_directory.File("model.safetensors"),
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]}}""", 24);

        AssertFileRejected(path, "b", "data_offsets [20, 24] leave a hole: bytes [16, 20) of the data buffer, after tensor 'a', belong to no tensor");
    }

    [Fact]
    public void Open_HoleBeforeTheFirstTensor_IsRejected()
    {
        var path = WriteRaw(_directory.File("model.safetensors"), """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8);

        AssertFileRejected(path, "a", "data_offsets [4, 8] leave a hole: bytes [0, 4) of the data buffer belong to no tensor");
    }

    [Fact]
    public void Open_BytesAfterTheLastTensor_AreRejected()
    {
        var path = WriteRaw(_directory.File("model.safetensors"), """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 6);

        AssertFileRejected(path, "a", "the data buffer holds 6 bytes but the tensors' data ends at 4: bytes [4, 6) belong to no tensor");
    }

    [Fact]
    public void Open_DataWithoutTensors_IsRejected()
    {
        var path = WriteRaw(_directory.File("model.safetensors"), "{}", 3);

        AssertFileRejected(path, null, "the data buffer holds 3 bytes but the tensors' data ends at 0");
    }

    [Fact]
    public void Open_EmptyTensorsAndEmptyHeader_AreAccepted()
    {
        var empty = WriteRaw(_directory.File("empty.safetensors"), "{}  ", 0);
        var zeros = WriteRaw(_directory.File("zeros.safetensors"),
            """{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"y":{"dtype":"F16","shape":[0],"data_offsets":[0,0]},"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"__metadata__":null}""", 8);

        using var none = SafetensorsFile.Open(empty);
        using var some = SafetensorsFile.Open(zeros);

        Assert.Empty(none.Tensors);
        Assert.Empty(some.Metadata);
        Assert.Equal(["y", "z", "s"], some.Tensors.Select(entry => entry.Name));
        Assert.Equal(1, some.Tensors[2].ElementCount);
    }

    [Fact]
    public void Open_MissingFile_NamesIt()
    {
        var path = _directory.File("absent.safetensors");

        AssertRejected(() => SafetensorsFile.Open(path), path, null, "the file does not exist");
        AssertRejected(() => SafetensorsCheckpoint.Open(path), path, null, "no such file or directory");
    }
}
