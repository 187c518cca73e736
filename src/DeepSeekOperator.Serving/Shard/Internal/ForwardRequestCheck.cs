using DeepSeekOperator.Moe;
using DeepSeekOperator.Serving.Protocol;
using DeepSeekOperator.Serving.Tensors;
using Grpc.Core;

namespace DeepSeekOperator.Serving.Shard.Internal;

/// <summary>
/// Checks a <see cref="ForwardRequest"/> against what the shard serves under one placement revision (DESIGN.md §6)
/// and turns it into assignments; the first mismatch is refused with a status naming the field and its value.
/// The revision itself is checked by <see cref="ShardRevisions"/>, which picks the check.
/// </summary>
internal sealed class ForwardRequestCheck(int shard, int hiddenSize, IReadOnlyDictionary<int, IReadOnlyList<int>> heldByLayer)
{
    private readonly Dictionary<int, HashSet<int>> _held = heldByLayer.ToDictionary(l => l.Key, l => l.Value.ToHashSet());

    /// <summary>The request's assignments, once every field agrees with the shard and with the others.</summary>
    /// <exception cref="RpcException">INVALID_ARGUMENT or FAILED_PRECONDITION, naming the first bad field.</exception>
    public ExpertAssignments Check(ForwardRequest request)
    {
        var step = request.StepId;
        if (request.Layer > int.MaxValue || !_held.TryGetValue((int)request.Layer, out var held))
        {
            throw Refuse(StatusCode.InvalidArgument, step, $"layer {request.Layer} is not an MoE layer of the model (MoE layers: {string.Join(", ", _held.Keys.Order())})");
        }

        if (!TensorBytes.IsSupported(request.Dtype))
        {
            throw Refuse(StatusCode.InvalidArgument, step, $"dtype {(int)request.Dtype} is not one of TENSOR_DTYPE_FLOAT32, TENSOR_DTYPE_BFLOAT16");
        }

        if (request.HiddenSize != hiddenSize)
        {
            throw Refuse(StatusCode.InvalidArgument, step, $"hidden_size {request.HiddenSize} is not the model's hidden size {hiddenSize}");
        }

        var elementSize = TensorBytes.ElementSize(request.Dtype);
        var expected = (long)request.NumTokens * request.HiddenSize * elementSize;
        if (request.Hidden.Length != expected)
        {
            throw Refuse(StatusCode.InvalidArgument, step, $"hidden has {request.Hidden.Length} bytes, but num_tokens {request.NumTokens} × hidden_size {request.HiddenSize} × {elementSize} bytes ({request.Dtype}) is {expected}");
        }

        var count = request.Token.Count;
        if (request.Expert.Count != count)
        {
            throw Refuse(StatusCode.InvalidArgument, step, $"expert has {request.Expert.Count} entries but token has {count}: one of each per assignment");
        }

        if (request.Weight.Count != count)
        {
            throw Refuse(StatusCode.InvalidArgument, step, $"weight has {request.Weight.Count} entries but token has {count}: one of each per assignment");
        }

        var tokens = new int[count];
        var experts = new int[count];
        for (var i = 0; i < count; i++)
        {
            if (request.Token[i] >= request.NumTokens)
            {
                throw Refuse(StatusCode.InvalidArgument, step, $"token[{i}] = {request.Token[i]} is not below num_tokens {request.NumTokens}");
            }

            if (request.Expert[i] > int.MaxValue || !held.Contains((int)request.Expert[i]))
            {
                throw Refuse(StatusCode.InvalidArgument, step, $"expert[{i}] = {request.Expert[i]} is not held by shard {shard} in layer {request.Layer} (it holds {string.Join(", ", held.Order())})");
            }

            tokens[i] = (int)request.Token[i];
            experts[i] = (int)request.Expert[i];
        }

        return new ExpertAssignments((int)request.NumTokens, tokens, experts, [.. request.Weight]);
    }

    /// <summary>The refusal of step <paramref name="step"/>, its message starting with the step.</summary>
    public static RpcException Refuse(StatusCode code, ulong step, string detail) => new(new Status(code, $"step {step}: {detail}"));
}
