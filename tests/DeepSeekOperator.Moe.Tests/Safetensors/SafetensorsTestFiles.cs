using System.Text;
using DeepSeekOperator.Moe.Safetensors;
using TorchSharp;

namespace DeepSeekOperator.Moe.Tests.Safetensors;

/// <summary>A directory under the system's temporary directory, removed with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "safetensors-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Builds safetensors files byte by byte, broken ones included, and checks the errors they raise.</summary>
internal static class SafetensorsTestFiles
{
    /// <summary>Writes the 8-byte length (the header's own unless <paramref name="declaredLength"/> is given), the header and <paramref name="dataLength"/> bytes of data (0, 1, 2, ...).</summary>
    public static string WriteRaw(string path, string header, long dataLength, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        using var stream = System.IO.File.Create(path);
        stream.Write(BitConverter.GetBytes(declaredLength ?? (ulong)json.Length));
        stream.Write(json);
        stream.Write(Enumerable.Range(0, (int)dataLength).Select(i => (byte)i).ToArray());
        return path;
    }

    /// <summary>Whether two tensors have the same element type, shape and bytes.</summary>
    public static bool Identical(torch.Tensor expected, torch.Tensor actual)
    {
        using var left = expected.contiguous();
        using var right = actual.contiguous();
        return left.dtype == right.dtype && left.shape.SequenceEqual(right.shape) && left.bytes.SequenceEqual(right.bytes);
    }

    /// <summary>A raw F32 tensor of the given values.</summary>
    public static RawTensor F32(string name, long[] shape, params float[] values) =>
        new(name, SafetensorsDtype.F32, shape, values.SelectMany(BitConverter.GetBytes).ToArray());

    /// <summary>Asserts that <paramref name="open"/> fails with a <see cref="CheckpointException"/> naming <paramref name="file"/>, the tensor (when one is expected), and saying <paramref name="fragment"/>.</summary>
    public static CheckpointException AssertRejected(Action open, string file, string? tensor, string fragment)
    {
        var error = Assert.Throws<CheckpointException>(open);
        Assert.Equal(file, error.File);
        Assert.Equal(tensor, error.Tensor);
        Assert.StartsWith(file + ": ", error.Message, StringComparison.Ordinal);
        if (tensor is not null)
        {
            Assert.Contains($"tensor '{tensor}'", error.Message, StringComparison.Ordinal);
        }

        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
        return error;
    }

    /// <summary>Asserts that opening <paramref name="path"/> as a file and as a checkpoint both fail as <see cref="AssertRejected"/> says.</summary>
    public static void AssertFileRejected(string path, string? tensor, string fragment)
    {
        AssertRejected(() => SafetensorsFile.Open(path).Dispose(), path, tensor, fragment);
        AssertRejected(() => SafetensorsCheckpoint.Open(path).Dispose(), path, tensor, fragment);
    }
}

/// <summary>Records every progress report synchronously, in order.</summary>
internal sealed class ProgressRecorder : IProgress<LoadProgress>
{
    public List<LoadProgress> Reports { get; } = [];

    public void Report(LoadProgress value) => Reports.Add(value);
}
