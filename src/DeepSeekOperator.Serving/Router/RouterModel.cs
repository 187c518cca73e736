using DeepSeekOperator.Moe;
using static TorchSharp.torch;

namespace DeepSeekOperator.Serving.Router;

/// <summary>
/// Builds a router's model: every weight but the routed experts, which an <see cref="IExpertExecutor"/> (the
/// remote one, in a router) runs.
/// </summary>
public static class RouterModel
{
    /// <summary>
    /// The router part of the synthetic model of <paramref name="config"/>, <paramref name="seed"/> and
    /// <paramref name="skew"/>: the same values <see cref="SyntheticModel"/> writes, routed experts left out.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dtype"/> is not float32 or bfloat16.</exception>
    public static MoeModel Synthetic(ModelConfig config, int seed, double skew, IExpertExecutor experts, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(experts);
        var weights = new Dictionary<string, Tensor>();
        try
        {
            foreach (var spec in ModelTensors.Expected(config).Where(spec => spec.Kind != TensorKind.RoutedExpert))
            {
                var generated = SyntheticModel.Tensor(spec, seed, skew, dtype);
                if (generated.device.type != device.type || generated.device.index != device.index)
                {
                    using var onCpu = generated;
                    generated = onCpu.to(device).DetachFromDisposeScope();
                }

                weights[spec.Name] = generated;
            }

            return new MoeModel(config, weights, experts, dtype, device);
        }
        catch
        {
            foreach (var tensor in weights.Values)
            {
                tensor.Dispose();
            }

            throw;
        }
    }
}
