using static TorchSharp.torch;

namespace DeepSeekOperator.Moe.Internal;

/// <summary>
/// One routed expert, <c>down(silu(gate x) ⊙ up x)</c>: in float32 on an AVX-512 CPU through
/// <see cref="PackedWeight"/>, otherwise through libtorch with the gate and up projections fused.
/// </summary>
internal sealed class ExpertMlp : IDisposable
{
    private readonly Tensor? _gateUp;
    private readonly Tensor? _down;
    private readonly PackedWeight? _packedGateUp;
    private readonly PackedWeight? _packedDown;
    private readonly long _intermediate;

    /// <summary>Takes ownership of the three projections.</summary>
    public ExpertMlp(Tensor gate, Tensor up, Tensor down)
    {
        _intermediate = gate.shape[0];
        var gateUp = Ops.FuseGateUp(gate, up);
        gate.Dispose();
        up.Dispose();
        if (PackedWeight.Fits(gateUp) && PackedWeight.Fits(down))
        {
            _packedGateUp = new PackedWeight(gateUp);
            _packedDown = new PackedWeight(down);
            gateUp.Dispose();
            down.Dispose();
        }
        else
        {
            _gateUp = gateUp;
            _down = down;
        }
    }

    /// <summary>The expert on <c>rows [n, H]</c>, in the weights' dtype.</summary>
    public Tensor Forward(Tensor rows)
    {
        if (_packedGateUp is null)
        {
            using var input = rows.to(_gateUp!.dtype);
            return Ops.SwiGlu(input, _gateUp, _down!);
        }

        using var scope = NewDisposeScope();
        var x = rows.to(ScalarType.Float32).contiguous();
        var gu = _packedGateUp.Multiply(x);
        var hidden = nn.functional.silu(gu.narrow(1, 0, _intermediate)).mul_(gu.narrow(1, _intermediate, _intermediate));
        return _packedDown!.Multiply(hidden.contiguous()).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _gateUp?.Dispose();
        _down?.Dispose();
        _packedGateUp?.Dispose();
        _packedDown?.Dispose();
    }
}
