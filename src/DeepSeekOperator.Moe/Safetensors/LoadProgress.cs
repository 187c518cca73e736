namespace DeepSeekOperator.Moe.Safetensors;

/// <summary>How far a load of many tensors has come.</summary>
/// <param name="BytesLoaded">Bytes of checkpoint data read so far, scale tensors included.</param>
/// <param name="BytesTotal">Bytes of checkpoint data the whole load reads.</param>
/// <param name="TensorsLoaded">Tensors loaded so far.</param>
/// <param name="TensorsTotal">Tensors the load returns.</param>
/// <param name="Tensor">The tensor just loaded; null in the report made before the first.</param>
public sealed record LoadProgress(long BytesLoaded, long BytesTotal, int TensorsLoaded, int TensorsTotal, string? Tensor);
