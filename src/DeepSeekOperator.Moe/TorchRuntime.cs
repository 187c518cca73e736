using TorchSharp;

namespace DeepSeekOperator.Moe;

/// <summary>The TorchSharp runtime the model runs on.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// The torch device for a device name: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not a device name.</exception>
    /// <exception cref="InvalidOperationException">A CUDA device was asked for and this process has none (a CPU build of libtorch, no driver, or too few GPUs).</exception>
    public static torch.Device Device(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name == "cpu")
        {
            return torch.CPU;
        }

        var index = 0;
        if (name != "cuda" && !(name.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), out index) && index >= 0))
        {
            throw new ArgumentException($"device \"{name}\" is not one of cpu, cuda or cuda:N", nameof(name));
        }

        if (!torch.cuda.is_available())
        {
            throw new InvalidOperationException($"device \"{name}\" was asked for, but CUDA is not available to this process (a CPU build of libtorch, or no NVIDIA driver)");
        }

        var count = torch.cuda.device_count();
        return index < count
            ? new torch.Device(DeviceType.CUDA, index)
            : throw new InvalidOperationException($"device \"{name}\" was asked for, but this process sees {count} CUDA device(s)");
    }
}
