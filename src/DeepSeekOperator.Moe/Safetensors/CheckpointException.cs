namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>A checkpoint file is missing, malformed, or lacks what was asked of it. The message names the file and, where one is involved, the tensor.</summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception for <paramref name="file"/> and, where one is involved, <paramref name="tensor"/>; the message is prefixed with both.</summary>
    /// <param name="file">The file or directory at fault.</param>
    /// <param name="tensor">The tensor at fault, or null.</param>
    /// <param name="detail">What is wrong, without the file and tensor names.</param>
    /// <param name="innerException">The error that revealed the fault, or null.</param>
    public CheckpointException(string file, string? tensor, string detail, Exception? innerException = null)
        : base(Compose(file, tensor, detail), innerException)
    {
        File = file;
        Tensor = tensor;
    }

    /// <summary>Creates the exception with a message of its own; <see cref="File"/> is empty.</summary>
    public CheckpointException()
        : base("the checkpoint is not valid")
    {
        File = string.Empty;
    }

    /// <summary>Creates the exception with a message of its own; <see cref="File"/> is empty.</summary>
    public CheckpointException(string message)
        : base(message)
    {
        File = string.Empty;
    }

    /// <summary>Creates the exception with a message of its own; <see cref="File"/> is empty.</summary>
    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = string.Empty;
    }

    /// <summary>The file (or, when neither checkpoint file is there, the directory) at fault.</summary>
    public string File { get; }

    /// <summary>The tensor at fault, or null when the fault is not one tensor's.</summary>
    public string? Tensor { get; }

    private static string Compose(string file, string? tensor, string detail) =>
        tensor is null ? $"{file}: {detail}" : $"{file}: tensor '{tensor}': {detail}";
}
